import unittest

from bugs.range_sum import list_range, sum_range


class RangeSumTest(unittest.TestCase):
    def test_list_range_includes_both_ends(self):
        self.assertEqual(list_range(1, 4), [1, 2, 3, 4])

    def test_sum_range_includes_both_ends(self):
        self.assertEqual(sum_range(1, 4), 10)

    def test_sum_range_of_one_number(self):
        self.assertEqual(sum_range(5, 5), 5)


if __name__ == "__main__":
    unittest.main()
