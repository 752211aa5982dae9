// The one script myst-nb adds to pages with widgets (nb_ipywidgets_js in _config.yml;
// tools/fetch_site_assets.py copies this file to site_extra/_static/widgets/lazy.js).
//
// The widget JavaScript is large (embed-amd.js: 4.4 MB, about 1.1 MB gzipped), and the
// explorers sit below the fold. So it is loaded only when a widget comes within about two
// screens of the viewport, and then in order: require.js, offline-config.js (RequireJS base
// URL, MathJax bridge), embed-amd.js, which renders every widget of the page at once
// (it renders at once when the page has already loaded). Readers scrolling down see the
// explorer ready; the page itself loads and becomes interactive without that weight.
// Browsers without IntersectionObserver load everything after the page has loaded.
(function () {
  var me = document.currentScript;
  if (!me) { return; }
  var folder = me.src.replace(/[?#].*$/, "");
  folder = folder.slice(0, folder.lastIndexOf("/") + 1);
  var started = false;

  function add(name, attributes) {
    return new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      s.src = folder + name;
      Object.keys(attributes || {}).forEach(function (k) { s.setAttribute(k, attributes[k]); });
      s.onload = resolve;
      s.onerror = function () { reject(new Error("could not load " + s.src)); };
      document.head.appendChild(s);
    });
  }

  function load() {
    if (started) { return; }
    started = true;
    add("require.js")
      .then(function () { return add("offline-config.js"); })
      .then(function () { return add("embed-amd.js", { "data-jupyter-widgets-cdn": "no-cdn/" }); })
      .catch(function (err) { console.error("[widgets] " + err.message); });
  }
  window.ctxembedLoadWidgets = load;

  function watch() {
    var views = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]');
    if (!views.length) { return; }
    if (!("IntersectionObserver" in window)) {
      if (document.readyState === "complete") { load(); } else { window.addEventListener("load", load); }
      return;
    }
    var observer = new IntersectionObserver(function (entries) {
      if (entries.some(function (e) { return e.isIntersecting; })) { observer.disconnect(); load(); }
    }, { rootMargin: "200% 0px" });
    views.forEach(function (v) { observer.observe(v.parentElement); });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", watch); } else { watch(); }
})();
