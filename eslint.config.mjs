import js from "@eslint/js";
import tseslint from "typescript-eslint";
import prettier from "eslint-config-prettier";
import globals from "globals";

export default tseslint.config(
  {
    ignores: [
      "dist/**",
      "node_modules/**",
      "coverage/**",
      "docs/api/**",
      "examples/*/node_modules/**",
      ".tmp/**",
      ".local/**",
      ".local-demo/**",
    ],
  },
  js.configs.recommended,
  // TypeScript is linted with type information: a promise nobody awaits or a promise passed
  // where a callback's result is ignored is an error, not a style question.
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "no-console": ["error", { allow: ["error"] }],
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
      "@typescript-eslint/no-require-imports": "off",
      "@typescript-eslint/no-floating-promises": "error",
      // Passing on a caught value as it is, whatever its type, is what a wrapper should do.
      "@typescript-eslint/prefer-promise-reject-errors": ["error", { allowThrowingUnknown: true }],
      // Polling probes and the engine's provider methods are async by contract, awaited or not.
      "@typescript-eslint/require-await": "off",
      "@typescript-eslint/no-misused-promises": "error",
    },
  },
  {
    // Plain JavaScript (bins, scripts, configs) and the examples, which have projects of
    // their own, are linted without type information.
    files: ["**/*.js", "**/*.mjs", "examples/**"],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Tests read untyped JSON (engine events, API responses, state files) all the time:
    // member access on it is the point, so the no-unsafe family stays off there.
    files: ["tests/**"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-return": "off",
    },
  },
  {
    files: [
      "bin/**",
      "local/bin/**",
      "scripts/**",
      "local/**/cli*.ts",
      "provider/cli/**",
      "tests/**",
      "bench/**",
      "examples/**",
    ],
    rules: { "no-console": "off" },
  },
  prettier,
);
