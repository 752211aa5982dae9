// Loaded on widget pages between _static/widgets/require.js and embed-amd.js
// (see nb_ipywidgets_js in _config.yml; tools/fetch_site_assets.py copies this file
// to site_extra/_static/widgets/offline-config.js).
//
// RequireJS resolves module URLs against its baseUrl, which defaults to the page's
// folder. The widget bundle computes where its Font Awesome font files live from
// its own module URL, so with the default every folder of the site (chapters/,
// exercises/, ...) would need its own copy of the fonts. Pointing baseUrl at this
// folder makes every page look for them in one place:
//   _static/widgets/@jupyter-widgets/html-manager/dist/<hash>.woff2
// The base widgets (@jupyter-widgets/base, controls, output) are bundled in
// embed-amd.js, so nothing else is fetched; a third-party widget module would be
// looked for under widgets/no-cdn/ (see data-jupyter-widgets-cdn in _config.yml),
// which does not exist: it fails locally instead of calling a CDN.
(function () {
  var me = document.currentScript;
  if (!me || !window.requirejs) { return; }
  var folder = me.src.replace(/[?#].*$/, "");
  folder = folder.slice(0, folder.lastIndexOf("/") + 1);
  window.requirejs.config({ baseUrl: folder });
})();

// The widget bundle (html-manager 1.0.6, @jupyter-widgets/base 1.x) typesets maths in
// widget text with the MathJax 2 call MathJax.Hub.Queue(["Typeset", MathJax.Hub, node]).
// The site loads MathJax 3, which has no Hub, so every widget view threw "reading 'Queue'".
// Give whatever window.MathJax becomes (the config object first, then MathJax 3 itself) a
// non-enumerable Hub whose Queue typesets the node with MathJax 3 once it has started.
(function () {
  function queue(job) {
    var node = job && job[2];
    var mj = window.MathJax;
    var ready = mj && mj.startup && mj.startup.promise;
    if (!ready) { return; }
    ready.then(function () {
      if (window.MathJax.typesetPromise) {
        return window.MathJax.typesetPromise(node ? [node] : undefined);
      }
    }).catch(function () {});
  }
  function withHub(mj) {
    if (mj && typeof mj === "object" && !Object.prototype.hasOwnProperty.call(mj, "Hub")) {
      Object.defineProperty(mj, "Hub", { value: { Queue: queue }, enumerable: false, configurable: true });
    }
    return mj;
  }
  var current = withHub(window.MathJax);
  Object.defineProperty(window, "MathJax", {
    configurable: true,
    get: function () { return current; },
    set: function (value) { current = withHub(value); },
  });
})();
