// The script pages with maths load instead of MathJax itself (tools/fetch_site_assets.py copies
// this file to site_extra/_static/mathjax/lazy-loader.js; the site's Sphinx extension,
// _ext/ctxembed_site.py, points the pages at it). MathJax (tex-chtml.js: 264 kB gzipped, half a second of a phone's processor to start)
// is loaded only when a formula comes within about two screens of the viewport. A chapter whose first formula is far down draws its first
// screen without it; one that opens with a formula loads MathJax at once.
// window.ctxembedLoadMathJax() loads it now (the printed book calls it before printing).
// Browsers without IntersectionObserver load MathJax once the page has loaded.
(function () {
  var me = document.currentScript;
  if (!me) { return; }
  var folder = me.src.replace(/[?#].*$/, "");
  folder = folder.slice(0, folder.lastIndexOf("/") + 1);
  var src = folder + (me.getAttribute("data-mathjax") || "tex-chtml.js");
  var loading = null;

  function load() {
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var s = document.createElement("script");
        s.src = src;
        s.async = true;
        s.onload = resolve;
        s.onerror = function () { reject(new Error("could not load " + src)); };
        document.head.appendChild(s);
      });
      loading.catch(function (err) { console.error("[maths] " + err.message); });
    }
    return loading;
  }
  window.ctxembedLoadMathJax = load;

  // Calls load() once, when one of the targets comes within about two screens of the viewport
  // (without IntersectionObserver: once the page has loaded). tools/widgets-lazy.js has the
  // same few lines: each script is served alone (a page may have maths and no widgets, or
  // widgets and no maths), so neither can rely on the other.
  function whenNear(targets, load) {
    if (!targets.length) { return; }
    if (!("IntersectionObserver" in window)) {
      if (document.readyState === "complete") { load(); } else { window.addEventListener("load", load); }
      return;
    }
    var observer = new IntersectionObserver(function (entries) {
      if (entries.some(function (e) { return e.isIntersecting; })) { observer.disconnect(); load(); }
    }, { rootMargin: "200% 0px" });
    targets.forEach(function (t) { observer.observe(t); });
  }

  function watch() {
    whenNear(Array.prototype.slice.call(document.querySelectorAll(".math")), load);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", watch); } else { watch(); }
})();
