import unittest

from bugs.clamp import clamp, larger


class ClampTest(unittest.TestCase):
    def test_larger(self):
        self.assertEqual(larger(2, 7), 7)
        self.assertEqual(larger(7, 2), 7)

    def test_clamp_keeps_inside_values(self):
        self.assertEqual(clamp(5, 0, 10), 5)

    def test_clamp_cuts_at_both_ends(self):
        self.assertEqual(clamp(-3, 0, 10), 0)
        self.assertEqual(clamp(42, 0, 10), 10)


if __name__ == "__main__":
    unittest.main()
