import { describe, expect, it } from 'vitest';
import { findSupport, jsImports, packageTestFields, pyImports, testRoot } from './support.js';
import { matchesAny } from './glob.js';

const reader = (texts: Record<string, string>) => async (paths: string[]) => new Map(paths.filter((p) => p in texts).map((p) => [p, texts[p] as string]));

describe('support files of the hidden tests', () => {
  it('reads imports the way the runners write them', () => {
    const js = `import a from './a.js';\nimport { b } from "../b";\nimport './side-effect.mjs';\nconst c = require('./c');\nexport * from './d';\nexport { e } from './e.js';\nawait import('./f.js');\nconst s = "import x from './not-code'";`;
    expect(jsImports(js)).toEqual(expect.arrayContaining(['./a.js', '../b', './side-effect.mjs', './c', './d', './e.js', './f.js']));
    expect(pyImports('import os, tests.util as u\nfrom . import helpers\nfrom .fixtures import load, data\nfrom conftest import *\n')).toEqual(
      expect.arrayContaining([[0, 'os'], [0, 'tests.util'], [1, 'helpers'], [1, 'fixtures'], [1, 'fixtures.load'], [0, 'conftest']]),
    );
    expect(testRoot('pkg/tests/unit/test_a.py')).toBe('pkg/tests');
    expect(testRoot('src/a.test.js')).toBeNull();
  });

  it('hides test directories whole, and a helper the tests import from elsewhere, but not the module under test', async () => {
    const files = ['src/calc.js', 'src/util.js', 'src/calc.test.js', 'src/test-utils.js', 'src/__fixtures__/cases.json', 'test/helpers/setup.js', 'test/fixtures/data.json', 'test/calc.test.js', 'package.json', 'jest.config.js', 'README.md'];
    const texts = {
      'test/calc.test.js': "const { add } = require('../src/calc');\nconst h = require('./helpers/setup');",
      'src/calc.test.js': "import { add } from './calc.js';\nimport { check } from './test-utils';\nconst cases = readJson(path.join(__dirname, '__fixtures__', 'cases.json'));",
      'src/test-utils.js': "export const check = require('./util.js');",
    };
    const s = await findSupport(files, ['src/calc.test.js', 'test/calc.test.js'], reader(texts));
    expect(s.paths).toEqual(expect.arrayContaining(['test', 'src/test-utils.js', 'src/__fixtures__/cases.json', 'jest.config.js']));
    expect(s.paths).not.toContain('src/calc.js');
    expect(s.paths).not.toContain('src/util.js');
    // Adding a file that node would find before the helper is a change to a protected path.
    expect(matchesAny('src/test-utils', s.globs)).toBe(true);
    expect(matchesAny('test/new-helper.js', s.globs)).toBe(true);
    expect(matchesAny('src/calc.js', s.globs)).toBe(false);
  });

  it("finds a Python test's util module, its conftest, data it reads, and the module paths that would shadow it", async () => {
    const files = ['calc.py', 'tests/test_calc.py', 'tests/util.py', 'tests/data/cases.csv', 'conftest.py', 'data/golden.txt', 'pyproject.toml', 'setup.cfg'];
    const texts = {
      'tests/test_calc.py': "import calc\nfrom util import approx\nGOLDEN = open('data/golden.txt').read()\n",
      'pyproject.toml': '[project]\nname = "calc"\n[tool.pytest.ini_options]\naddopts = "-q"\n',
      'setup.cfg': '[metadata]\nname = calc\n',
    };
    const s = await findSupport(files, ['tests/test_calc.py'], reader(texts));
    expect(s.paths).toEqual(expect.arrayContaining(['tests', 'conftest.py', 'data/golden.txt', 'pyproject.toml']));
    expect(s.paths).not.toContain('calc.py');
    expect(s.paths).not.toContain('setup.cfg');
    expect(matchesAny('tests/util/__init__.py', s.globs)).toBe(true);
  });

  it('protects the test fields of package.json, and its scripts when the command runs them', () => {
    const root = JSON.stringify({ scripts: { test: 'node --test', build: 'tsc' }, jest: { bail: true }, dependencies: { a: '1' } });
    const deps = JSON.stringify({ scripts: { test: 'node --test', build: 'tsc -b' }, jest: { bail: true }, dependencies: { a: '2' } });
    const script = JSON.stringify({ scripts: { test: 'exit 0', build: 'tsc' }, jest: { bail: true }, dependencies: { a: '1' } });
    const config = JSON.stringify({ scripts: { test: 'node --test', build: 'tsc' }, jest: { bail: false }, dependencies: { a: '1' } });
    expect(packageTestFields(root, deps, 'npm test')).toEqual([]);
    expect(packageTestFields(root, script, 'npm test')).toEqual(['package.json#scripts.test']);
    expect(packageTestFields(root, script, 'node --test')).toEqual([]);
    expect(packageTestFields(root, config, 'node --test')).toEqual(['package.json#jest']);
  });
});
