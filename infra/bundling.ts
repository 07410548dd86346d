/**
 * How a function folder becomes a Lambda bundle. One set of esbuild options, used by the stack
 * (through NodejsFunction, with the local esbuild: no Docker) and by bench/bundle-size.ts, so the
 * benchmark measures exactly what is deployed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';
import { Annotations } from 'aws-cdk-lib';
import { type BundlingOptions, type ICommandHooks, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { IConstruct } from 'constructs';
import type { FunctionName } from '#shared/resources';

/** The repository root (where package.json, package-lock.json and tsconfig.json live). */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Lets CommonJS dependencies call `require` inside the ESM bundle. */
export const ESM_REQUIRE_BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/**
 * Modules the Lambda runtime provides and the bundle therefore leaves out. The nodejs24.x runtime
 * ships the AWS SDK for JavaScript v3; bundling it would add ~380 KB minified to every function
 * (measured: DynamoDB + lib-dynamodb + SQS + Secrets Manager clients), well past the 300 KB
 * webhook budget, and AWS patches the runtime copy.
 */
export const RUNTIME_PROVIDED_MODULES = ['@aws-sdk/*'] as const;

/**
 * The esbuild options of every function bundle. The root tsconfig (module preserve, bundler
 * resolution) is used; esbuild resolves the package.json `imports` aliases (`#shared/*`).
 */
export const FUNCTION_BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  minify: true,
  // Chinese and Cyrillic rule phrases as UTF-8 (3 bytes a character) rather than \uXXXX escapes.
  charset: 'utf8',
  sourcemap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  banner: { js: ESM_REQUIRE_BANNER },
  external: [...RUNTIME_PROVIDED_MODULES],
  tsconfig: join(PROJECT_ROOT, 'tsconfig.json'),
} as const satisfies BuildOptions;

/** Bundle file name NodejsFunction writes for ESM output. */
export const BUNDLE_FILE = 'index.mjs';

/** The handler file of a function folder. */
export function functionEntry(name: FunctionName): string {
  return join(PROJECT_ROOT, 'functions', name, 'handler.ts');
}

/** Packages installed next to a bundle instead of being bundled (native code). */
export interface InstalledPackages {
  /** Packages to copy into the bundle's node_modules, as they are named in node_modules. */
  readonly packages: readonly string[];
  /** Of those, the ones without which the function cannot work on its target platform. */
  readonly required: readonly string[];
  /** Bare import specifiers esbuild must leave external. */
  readonly external: readonly string[];
}

/**
 * Where the linux-arm64 build of sharp is looked for, first match per package. npm installs only
 * the host's binaries into the project, so the arm64 set is installed once into its own prefix
 * (docs/deploy.md, "sharp for Lambda"):
 *   npm install --no-save --prefix node_modules/.cache/sharp-linux-arm64 --os=linux --cpu=arm64 --libc=glibc sharp@<version>
 */
export const SHARP_ARM64_PREFIX = join(PROJECT_ROOT, 'node_modules', '.cache', 'sharp-linux-arm64');
export const PACKAGE_SOURCES = [join(SHARP_ARM64_PREFIX, 'node_modules'), join(PROJECT_ROOT, 'node_modules')] as const;

/**
 * sharp for Lambda on linux-arm64 (glibc): sharp's JavaScript, its runtime dependencies and the
 * prebuilt linux-arm64 binding + libvips. Copied from a local install, never downloaded at synth,
 * so the synth works offline.
 */
export const SHARP_FOR_LAMBDA_ARM64: InstalledPackages = {
  packages: ['sharp', '@img/colour', 'detect-libc', 'semver', '@img/sharp-linux-arm64', '@img/sharp-libvips-linux-arm64'],
  required: ['@img/sharp-linux-arm64', '@img/sharp-libvips-linux-arm64'],
  external: ['sharp'],
};

/** The directory a package is copied from, or undefined when no source has it. */
export function packageSource(pkg: string, sources: readonly string[] = PACKAGE_SOURCES): string | undefined {
  return sources.map((dir) => join(dir, pkg)).find((dir) => existsSync(join(dir, 'package.json')));
}

/** Functions whose bundle gets native packages installed next to it. */
export const INSTALLED_PACKAGES: Readonly<Partial<Record<FunctionName, InstalledPackages>>> = {
  media: SHARP_FOR_LAMBDA_ARM64,
};

/** The complete esbuild options of one function's bundle (what NodejsFunction runs for the stack). */
export function functionBuildOptions(name: FunctionName, outfile: string): BuildOptions {
  const { banner, mainFields, external, ...rest } = FUNCTION_BUNDLE_OPTIONS;
  return {
    ...rest,
    banner: { ...banner },
    mainFields: [...mainFields],
    external: [...external, ...(INSTALLED_PACKAGES[name]?.external ?? [])],
    entryPoints: [functionEntry(name)],
    outfile,
  };
}

/** Copies installed packages into `<bundle>/node_modules` after esbuild ran (NodejsFunction command hook). */
export function installPackagesHook(
  scope: IConstruct,
  installed: InstalledPackages,
  sources: readonly string[] = PACKAGE_SOURCES,
): ICommandHooks {
  const found = installed.packages.flatMap((pkg) => {
    const source = packageSource(pkg, sources);
    return source ? [{ pkg, source }] : [];
  });
  const missing = installed.required.filter((pkg) => !found.some((f) => f.pkg === pkg));
  if (missing.length > 0) {
    const message =
      `${missing.join(' and ')} not found in node_modules: the bundle of ${scope.node.path} is built without them and ` +
      'sharp will fail to load on Lambda (linux-arm64). Install them once with ' +
      `"npm install --no-save --prefix node_modules/.cache/sharp-linux-arm64 --os=linux --cpu=arm64 --libc=glibc sharp@<version in package.json>" ` +
      '(docs/deploy.md, "sharp for Lambda") and synthesize again before deploying.';
    Annotations.of(scope).addWarningV2('scrm:sharp-linux-arm64-missing', message);
    process.emitWarning(message, { code: 'SCRM_SHARP_ARM64_MISSING' });
  }
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (_inputDir: string, outputDir: string) =>
      found.map(({ pkg, source }) => {
        const target = join(outputDir, 'node_modules', pkg);
        return `mkdir -p "${join(target, '..')}" && cp -R "${source}" "${target}"`;
      }),
  };
}

/** NodejsFunction bundling options built from {@link FUNCTION_BUNDLE_OPTIONS}. */
export function nodejsBundling(options: { readonly install?: InstalledPackages; readonly scope?: IConstruct } = {}): BundlingOptions {
  const { install, scope } = options;
  return {
    forceDockerBundling: false,
    format: OutputFormat.ESM,
    target: FUNCTION_BUNDLE_OPTIONS.target,
    minify: FUNCTION_BUNDLE_OPTIONS.minify,
    // `charset` is not passed on to esbuild by this aws-cdk-lib version: give the flag directly.
    esbuildArgs: { '--charset': FUNCTION_BUNDLE_OPTIONS.charset },
    sourceMap: FUNCTION_BUNDLE_OPTIONS.sourcemap,
    sourcesContent: FUNCTION_BUNDLE_OPTIONS.sourcesContent,
    mainFields: [...FUNCTION_BUNDLE_OPTIONS.mainFields],
    banner: FUNCTION_BUNDLE_OPTIONS.banner.js,
    tsconfig: FUNCTION_BUNDLE_OPTIONS.tsconfig,
    externalModules: [...FUNCTION_BUNDLE_OPTIONS.external, ...(install?.external ?? [])],
    ...(install && scope ? { commandHooks: installPackagesHook(scope, install) } : {}),
  };
}
