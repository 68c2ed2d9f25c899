// Inserted at the start of an explorer page's <head> by browser_test.py (never shipped):
// records console errors and uncaught exceptions from the first moment, then, once the page
// has loaded, clicks every node box through the page's own DOM events, reads the node panel,
// runs a search, and writes what it saw as JSON into a pre element, id tern-check-result.
(function () {
  const errors = [];
  window.addEventListener('error', (event) => errors.push('uncaught: ' + event.message));
  const consoleError = console.error;
  console.error = function (...args) {
    errors.push('console.error: ' + args.map(String).join(' '));
    consoleError.apply(console, args);
  };
  const text = (root, selector) => {
    const element = root.querySelector(selector);
    return element ? element.textContent.trim() : null;
  };
  window.addEventListener('load', () => {
    const result = {errors, nodes: [], search: null, resources: 0};
    try {
      const boxes = Array.from(document.querySelectorAll('g.node')).filter((g) => /^g\d+-n\d+$/.test(g.id));
      for (const box of boxes) {
        box.dispatchEvent(new MouseEvent('click', {bubbles: true}));
        const panel = document.getElementById('tern-node-panel');
        const rows = panel ? Array.from(panel.querySelectorAll('tr.io-row')) : [];
        result.nodes.push({
          id: box.id,
          selected: box.classList.contains('selected'),
          panel_graph: panel && panel.getAttribute('data-graph'),
          panel_node: panel && panel.getAttribute('data-node'),
          name: panel && text(panel, '.field-name'),
          op: panel && text(panel, '.field-op'),
          io: rows.map((row) => ({
            kind: row.getAttribute('data-kind'),
            name: row.getAttribute('data-name'),
            dtype: text(row, '.io-dtype'),
            shape: text(row, '.io-shape'),
          })),
        });
      }
      const term = (window.TERN_CHECK || {}).search;
      const search = document.getElementById('tern-search');
      if (term && search) {
        search.value = term;
        search.dispatchEvent(new Event('input', {bubbles: true}));
        result.search = {
          term,
          count: text(document, '#tern-search-count'),
          found: Array.from(document.querySelectorAll('g.node.found')).map((g) => g.id),
        };
      }
    } catch (error) {
      errors.push('check: ' + error);
    }
    result.resources = performance.getEntriesByType('resource').length;
    const pre = document.createElement('pre');
    pre.id = 'tern-check-result';
    pre.textContent = JSON.stringify(result);
    document.body.appendChild(pre);
  });
})();
