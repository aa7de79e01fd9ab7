/** Gregorian leap years: every 4th year, except centuries, except every 4th century. */
export function isLeapYear(year) {
  return year % 4 === 0 && (year % 100 !== 0 && year % 400 === 0);
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days in a month (1 = January). */
export function daysInMonth(year, month) {
  if (month === 2 && isLeapYear(year)) {
    return 29;
  }
  return DAYS[month - 1];
}

/** Day of the year, 1 for January 1st. */
export function dayOfYear(year, month, day) {
  let total = day;
  for (let m = 1; m < month; m++) {
    total += daysInMonth(year, m);
  }
  return total;
}
