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
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      "no-console": ["error", { allow: ["error"] }],
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
      "@typescript-eslint/no-require-imports": "off",
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
      "examples/**",
    ],
    rules: { "no-console": "off" },
  },
  prettier,
);
