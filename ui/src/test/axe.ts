// Runs axe-core over a rendered screen and returns the rule ids that fail.
import axe from 'axe-core';

export async function axeViolations(container: Element): Promise<string[]> {
  const results = await axe.run(container, {
    // jsdom does no layout, so colour contrast cannot be measured here.
    rules: { 'color-contrast': { enabled: false } },
  });
  return results.violations.map((violation) => violation.id);
}
