import unittest

from bugs.extremes import largest, smallest


class ExtremesTest(unittest.TestCase):
    def test_largest(self):
        self.assertEqual(largest([3, 9, 4]), 9)

    def test_smallest(self):
        self.assertEqual(smallest([3, 1, 4]), 1)
        self.assertEqual(smallest([2]), 2)


if __name__ == "__main__":
    unittest.main()
