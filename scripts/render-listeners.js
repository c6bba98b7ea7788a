#!/usr/bin/env node
/**
 * Renders a desired-listeners template (infra/listeners/<environment>.json) for
 * `engage-bridge listeners reconcile --file`: every `${NAME}` is replaced by the environment
 * variable NAME (the deploy workflow sets ENGAGE_NOTIFICATION_URL = webhook URL + `?code=<function key>`,
 * which must not be committed). Fails, naming the variables, if any is unset; values are never printed.
 * The output file is readable by this user only.
 *
 *   node scripts/render-listeners.js <template> <output>
 */
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');

/** The template text with `${NAME}` replaced from `env` (JSON-escaped); throws listing unset names. */
function renderTemplate(text, env) {
  const missing = new Set();
  const rendered = text.replace(/\$\{([A-Z_][A-Z0-9_]*)\}/g, (_, name) => {
    const value = env[name];
    if (value === undefined || value === '') {
      missing.add(name);
      return '';
    }
    return JSON.stringify(value).slice(1, -1);
  });
  if (missing.size) throw new Error(`not set: ${[...missing].join(', ')}`);
  JSON.parse(rendered); // the result must still be JSON
  return rendered;
}

module.exports = { renderTemplate };

if (require.main === module) {
  const [template, output] = process.argv.slice(2);
  try {
    if (!template || !output) throw new Error('usage: render-listeners.js <template> <output>');
    writeFileSync(output, renderTemplate(readFileSync(template, 'utf8'), process.env), { mode: 0o600 });
    process.stdout.write(`rendered ${template} → ${output}\n`);
  } catch (err) {
    process.stderr.write(`error: ${err.message}\n`);
    process.exitCode = 1;
  }
}
