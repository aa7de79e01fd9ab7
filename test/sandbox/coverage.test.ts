/**
 * Fault localization from per-test coverage, recorded in the Docker run that grades: on a
 * file of several functions whose failing tests crash in another function than the faulty
 * one (the stack trace points there), the pooled ranking still puts the faulty line in the top 3.
 */
import path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { defaultConfig, stringifyConfig, type ConfigInput } from '../../src/config/index.js';
import { createSandbox, discoverTasks, runTask } from '../../src/sandbox/index.js';
import { parseLogLocations, resolveLogPath } from '../../src/tasks/locations.js';
import { rankSpectra } from '../../src/tasks/spectrum.js';
import type { Evaluation } from '../../src/archive/types.js';
import { describeDocker, ensureTestImage } from '../helpers/docker.js';
import { makeRepo, removedAfterAll, revParse } from '../helpers/repo.js';

const JS_PRICES = `/** Prices in cents. */
export function parsePrice(text) {
  const value = Number(text.replace('$', ''));
  return Math.round(value * 100);
}

export function applyDiscount(cents, percent) {
  if (percent === 0) {
    return cents;
  }
  const off = Math.floor((cents * percent) / 10);
  return cents - off;
}

export function formatPrice(cents) {
  if (cents < 0) {
    throw new RangeError('a price cannot be negative: ' + cents);
  }
  const whole = Math.floor(cents / 100);
  const rest = String(cents % 100).padStart(2, '0');
  return '$' + whole + '.' + rest;
}

export function discounted(text, percent) {
  return formatPrice(applyDiscount(parsePrice(text), percent));
}
`;
const JS_FAULT = 11;

const JS_TESTS = `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { discounted, formatPrice, parsePrice } from '../src/prices.js';

test('parses a price', () => assert.equal(parsePrice('$12.50'), 1250));
test('formats a price', () => assert.equal(formatPrice(1250), '$12.50'));
test('refuses a negative price', () => assert.throws(() => formatPrice(-1), RangeError));
test('no discount keeps the price', () => assert.equal(discounted('$10.00', 0), '$10.00'));
test('a fifth off', () => assert.equal(discounted('$10.00', 20), '$8.00'));
test('half price', () => assert.equal(discounted('$3.00', 50), '$1.50'));
`;

const PY_INVENTORY = `"""Stock of a small shop."""


def parse_line(line):
    name, count = line.split(":")
    return name.strip(), int(count)


def restock(stock, name, count):
    if name in stock:
        stock[name] = stock[name] - count
    else:
        stock[name] = count
    return stock


def check(stock):
    for name, count in stock.items():
        if count < 0:
            raise ValueError("negative stock of " + name)
    return stock


def load(lines):
    stock = {}
    for line in lines:
        name, count = parse_line(line)
        restock(stock, name, count)
    return check(stock)
`;
const PY_FAULT = 11;

const PY_TESTS = `import unittest

from shop.inventory import check, load, parse_line


class InventoryTest(unittest.TestCase):
    def test_parse(self):
        self.assertEqual(parse_line("pens: 3"), ("pens", 3))

    def test_check_keeps_good_stock(self):
        self.assertEqual(check({"pens": 2}), {"pens": 2})

    def test_check_refuses_negative(self):
        with self.assertRaises(ValueError):
            check({"pens": -1})

    def test_load_one(self):
        self.assertEqual(load(["pens: 3", "ink: 1"]), {"pens": 3, "ink": 1})

    def test_load_restocked(self):
        self.assertEqual(load(["pens: 2", "pens: 3"]), {"pens": 5})

    def test_load_restocked_twice(self):
        self.assertEqual(load(["ink: 1", "ink: 1", "ink: 1"]), {"ink": 3})
`;

interface Case {
  name: string;
  files: Record<string, string>;
  config: ConfigInput;
  source: string;
  fault: number;
}

const CASES: Case[] = [
  {
    name: 'node --test',
    files: { 'package.json': '{"type":"module"}\n', 'src/prices.js': JS_PRICES, 'test/prices.test.js': JS_TESTS },
    config: { language: 'javascript', test: { command: 'node --test', timeout: '30s' }, sandbox: { image: 'evogit/node:20' } },
    source: 'src/prices.js',
    fault: JS_FAULT,
  },
  {
    name: 'python unittest',
    files: { 'shop/__init__.py': '', 'shop/inventory.py': PY_INVENTORY, 'tests/__init__.py': '', 'tests/test_inventory.py': PY_TESTS },
    config: { language: 'python', test: { command: 'python3 -m unittest', timeout: '30s' }, sandbox: { image: 'evogit/python:3' } },
    source: 'shop/inventory.py',
    fault: PY_FAULT,
  },
];

describeDocker('fault localization from per-test coverage in the grading run', () => {
  const dirs = removedAfterAll();
  beforeAll(() => ensureTestImage());

  for (const c of CASES) {
    it(`${c.name}: the faulty line is in the top 3 although the stack trace points elsewhere`, async () => {
      const config = defaultConfig(c.config);
      const dir = await makeRepo({ ...c.files, 'evogit.yml': stringifyConfig(c.config) });
      dirs.push(dir);
      const root = await revParse(dir);
      const [task] = await discoverTasks(dir, root, config);
      const sandbox = createSandbox(config);
      const run: Evaluation = await runTask({ repoDir: dir, commit: root, root, task: task!, config, sandbox, writer: 't', logDir: path.join(dir, '.git', 'evogit', 'logs') });
      expect(run.outcome).toBe('fail');
      expect(run.tests).toMatchObject({ failed: 2 });

      // The failures' stack traces name the source only where the error is raised, not at the fault.
      const framed = parseLogLocations(run.log ?? '').filter((l) => resolveLogPath(l.path, [c.source]) === c.source).map((l) => l.line);
      expect(framed.length).toBeGreaterThan(0);
      expect(framed).not.toContain(c.fault);

      expect(run.spectrum).toMatchObject({ failed: 2, passed: 4 });
      // Only source lines are kept (the test file is protected, so never a suspect).
      expect(Object.keys(run.spectrum!.lines)).toEqual([c.source]);
      const ranked = rankSpectra([run.spectrum!]);
      const top = ranked.slice(0, 3).map((l) => l.line);
      expect(top).toContain(c.fault);
      const fault = ranked.find((l) => l.line === c.fault)!;
      for (const line of framed) {
        const at = ranked.find((l) => l.line === line);
        if (at) expect(at.score).toBeLessThan(fault.score);
      }
    });
  }

  it('records nothing and changes no grade with test.coverage: false', async () => {
    const c = CASES[0]!;
    const input = { ...c.config, test: { ...c.config.test, coverage: false } } as ConfigInput;
    const config = defaultConfig(input);
    const dir = await makeRepo({ ...c.files, 'evogit.yml': stringifyConfig(input) });
    dirs.push(dir);
    const root = await revParse(dir);
    const [task] = await discoverTasks(dir, root, config);
    const run = await runTask({ repoDir: dir, commit: root, root, task: task!, config, sandbox: createSandbox(config), writer: 't', logDir: path.join(dir, '.git', 'evogit', 'logs') });
    expect(run).toMatchObject({ outcome: 'fail', tests: { passed: 4, failed: 2 } });
    expect(run.spectrum).toBeUndefined();
  });
});
