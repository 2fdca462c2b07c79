/* global window, document */
// Keep in sync with src/modules/theme/theme.ts (storage key and class name).
(function () {
  var stored = null;
  try {
    stored = window.localStorage.getItem('studio.theme');
  } catch {
    // Storage can be blocked; fall back to the system preference.
  }
  var dark =
    stored === 'dark' ||
    (stored !== 'light' && window.matchMedia('(prefers-color-scheme: dark)').matches);
  document.documentElement.classList.toggle('dark', dark);
})();
