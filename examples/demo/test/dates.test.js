import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dayOfYear, daysInMonth, isLeapYear } from '../src/dates.js';

test('ordinary leap years', () => {
  assert.equal(isLeapYear(2024), true);
  assert.equal(isLeapYear(2023), false);
});

test('centuries are not leap years', () => {
  assert.equal(isLeapYear(1900), false);
});

test('every 400th year is a leap year', () => {
  assert.equal(isLeapYear(2000), true);
});

test('February has 29 days in a leap year', () => {
  assert.equal(daysInMonth(2024, 2), 29);
  assert.equal(daysInMonth(2023, 2), 28);
});

test('dayOfYear counts the days before the month', () => {
  assert.equal(dayOfYear(2023, 3, 1), 60);
  assert.equal(dayOfYear(2024, 3, 1), 61);
});
