/**
 * How each Polyglot language's exercise is built and tested (pure): the sandbox image, the
 * command (the benchmark's own build — CMake, go test, cargo, Jest — with a machine-readable
 * report), and how the hidden tests are switched fully on, as the benchmark's harness does
 * (Jest's xtest/xit, JUnit's @Disabled; Rust's #[ignore] and C++'s EXERCISM_RUN_ALL_TESTS by flag).
 */
import { HARNESS_DIR, RESULTS_TOKEN, TIMEOUT_MS_TOKEN, TIMEOUT_S_TOKEN } from '../tasks/index.js';
import { shellQuote } from '../proc/index.js';
import { TOOLCHAINS } from '../sandbox/image.js';
import type { SuiteTest } from './types.js';

export const POLYGLOT_LANGUAGES = ['cpp', 'go', 'java', 'javascript', 'python', 'rust'] as const;
export type PolyglotLanguage = (typeof POLYGLOT_LANGUAGES)[number];

/** The images `evogit sandbox build --lang` builds (sandbox/build-toolchains.sh offline). */
export const LANGUAGE_IMAGES: Readonly<Record<Exclude<PolyglotLanguage, 'python'>, string>> = {
  cpp: TOOLCHAINS.cpp.tag,
  go: TOOLCHAINS.go.tag,
  java: TOOLCHAINS.java.tag,
  javascript: TOOLCHAINS.javascript.tag,
  rust: TOOLCHAINS.rust.tag,
};

/** What the test command needs to know of an exercise. */
export interface ExerciseRun {
  language: PolyglotLanguage;
  slug: string;
  test: string[];
  /** JavaScript: the exercise's package.json declares Jest (the benchmark's); else node --test. */
  jest?: boolean;
}

const sh = (script: string): string[] => ['/bin/sh', '-c', script];

/** The command, format and image that grade one exercise. */
export function polyglotTest(ex: ExerciseRun): SuiteTest {
  switch (ex.language) {
    case 'cpp':
      // The exercise's CMakeLists names its target after its directory: build it from a
      // directory named as the exercise, with every test enabled, then run Catch's JUnit reporter.
      return {
        image: LANGUAGE_IMAGES.cpp,
        format: 'junit',
        resultFile: RESULTS_TOKEN,
        command: sh(
          `mkdir -p /tmp/evogit-src && ln -sfn "$PWD" /tmp/evogit-src/${ex.slug} && ` +
            `cmake -DEXERCISM_RUN_ALL_TESTS=1 -S /tmp/evogit-src/${ex.slug} -B .evogit-build >/dev/null && ` +
            `make --no-print-directory -s -C .evogit-build ${shellQuote(ex.slug)} && ./.evogit-build/${shellQuote(ex.slug)} -r junit -o ${RESULTS_TOKEN}`,
        ),
      };
    case 'go':
      // The sandbox's /tmp cannot hold programs that run: the test binary is built in the work dir.
      return {
        image: LANGUAGE_IMAGES.go,
        format: 'go-json',
        resultFile: RESULTS_TOKEN,
        command: sh(`mkdir -p .evogit-go && GOTMPDIR="$PWD/.evogit-go" go test -json -count=1 -timeout=${TIMEOUT_S_TOKEN}s ./... > ${RESULTS_TOKEN}`),
      };
    case 'java':
      // The exercise's Gradle build fetches JUnit from Maven Central, which a sandbox cannot
      // reach: the same sources and test classes compile with javac and run on the JUnit
      // Platform console launcher, with the jars its build.gradle names from the image.
      return {
        image: LANGUAGE_IMAGES.java,
        format: 'junit',
        resultFile: RESULTS_TOKEN,
        command: sh(
          'rm -rf /tmp/evogit-classes /tmp/evogit-reports && mkdir -p /tmp/evogit-classes && ' +
            'javac -nowarn -encoding UTF-8 -d /tmp/evogit-classes -cp "$EVOGIT_JUNIT_CLASSPATH" $(find src/main/java src/test/java -name "*.java") && ' +
            '{ [ ! -d src/main/resources ] || cp -r src/main/resources/. /tmp/evogit-classes/; } && ' +
            'java -jar /usr/share/java/junit-platform-console-standalone.jar -cp "/tmp/evogit-classes:$EVOGIT_JUNIT_CLASSPATH" --scan-classpath /tmp/evogit-classes ' +
            `--reports-dir /tmp/evogit-reports --disable-banner --details=tree --fail-if-no-tests; s=$?; cp /tmp/evogit-reports/TEST-junit-jupiter.xml ${RESULTS_TOKEN} 2>/dev/null; exit $s`,
        ),
      };
    case 'javascript':
      if (!ex.jest) return { format: 'tap', resultFile: RESULTS_TOKEN, command: ['node', '--test', `--test-timeout=${TIMEOUT_MS_TOKEN}`, '--test-reporter=tap', `--test-reporter-destination=${RESULTS_TOKEN}`, ...ex.test] };
      return {
        image: LANGUAGE_IMAGES.javascript,
        format: 'jest-json',
        resultFile: RESULTS_TOKEN,
        command: ['node', '/node_modules/jest/bin/jest.js', '--ci', `--testTimeout=${TIMEOUT_MS_TOKEN}`, '--json', `--outputFile=${RESULTS_TOKEN}`, ...ex.test],
      };
    case 'python':
      return { format: 'junit', resultFile: RESULTS_TOKEN, command: ['python3', `{work}/${HARNESS_DIR}/unittest_junit.py`, '--out', RESULTS_TOKEN, '--timeout', TIMEOUT_S_TOKEN, ...ex.test] };
    case 'rust':
      // libtest's JSON report (its stable channel allows it with RUSTC_BOOTSTRAP, read at run
      // time); #[ignore]d tests included, as the benchmark runs them.
      return {
        image: LANGUAGE_IMAGES.rust,
        format: 'libtest-json',
        resultFile: RESULTS_TOKEN,
        command: sh(`RUSTC_BOOTSTRAP=1 cargo test --offline --quiet -- --include-ignored -Z unstable-options --format json > ${RESULTS_TOKEN}`),
      };
  }
}

/**
 * The hidden test file as it is graded: every test the exercise ships switched on, as the
 * benchmark's harness does before it runs them (pure).
 */
export function enableAllTests(language: string, file: string, text: string): string {
  if (language === 'javascript' && /\.(spec|test)\.[cm]?js$/.test(file)) return text.replace(/\bx(test|it)\(/g, '$1(');
  if (language === 'java' && file.endsWith('.java')) return text.replace(/@Disabled\([^)]*\)\s*\n/g, '');
  return text;
}

/**
 * Where each reference file (`files.example`) goes in the exercise to make the reference
 * solution (pure): over the solution file of the same name; over the only solution file of the
 * same extension when no reference file has that file's name (`.meta/example.cpp` →
 * `all_your_base.cpp`, `.meta/example.rs` → `src/lib.rs`); any other reference file is a
 * helper of the solution, put beside it under its own name (Java's `Frame.java` next to
 * `BowlingGame.java`). A reference copy of a file the exercise already provides is left out.
 */
export function referenceTargets(example: string[], solution: string[], provided: string[]): Map<string, string> {
  const targets = new Map<string, string>();
  const base = (p: string): string => p.slice(p.lastIndexOf('/') + 1);
  const dir = (p: string): string => (p.includes('/') ? p.slice(0, p.lastIndexOf('/') + 1) : '');
  const ext = (p: string): string => (base(p).includes('.') ? base(p).slice(base(p).lastIndexOf('.')) : '');
  const named = new Set(example.map(base));
  for (const e of example) {
    const same = solution.filter((s) => base(s) === base(e));
    if (same.length === 1) {
      targets.set(e, same[0]!);
      continue;
    }
    if (provided.some((p) => base(p) === base(e))) continue;
    const byExt = solution.filter((s) => ext(s) === ext(e));
    if (byExt.length === 1 && !named.has(base(byExt[0]!))) targets.set(e, byExt[0]!);
    else if (byExt.length) targets.set(e, `${dir(byExt[0]!)}${base(e)}`);
  }
  return targets;
}
