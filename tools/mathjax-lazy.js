// The script pages with maths load instead of MathJax itself (tools/fetch_mathjax.sh copies
// this file to site_extra/_static/mathjax/lazy-loader.js; ctxembed.viz.site points the pages
// at it). MathJax (tex-chtml.js: 264 kB gzipped, half a second of a phone's processor to start)
// is loaded only when a formula, or an explorer whose text may hold one, comes within about
// two screens of the viewport. A chapter whose first formula is far down draws its first
// screen without it; one that opens with a formula loads MathJax at once.
// window.ctxembedLoadMathJax() loads it now (the printed book calls it before printing).
// Browsers without IntersectionObserver load MathJax once the page has loaded.
// Every page with widgets has this script before the widgets' (widget text may hold maths).
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
  // (without IntersectionObserver: once the page has loaded). The widgets' loader uses it too.
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
  window.ctxembedWhenNear = whenNear;

  function watch() {
    var targets = Array.prototype.slice.call(document.querySelectorAll(".math"));
    document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')
      .forEach(function (v) { targets.push(v.parentElement); });
    whenNear(targets, load);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", watch); } else { watch(); }
})();
