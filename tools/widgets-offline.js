// Loaded on widget pages between _static/widgets/require.js and embed-amd.js
// (see nb_ipywidgets_js in _config.yml; tools/fetch_widget_js.sh copies this file
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
