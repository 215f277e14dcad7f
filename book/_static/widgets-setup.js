// Point the Jupyter widget embedder at the book's own copy of its files.
//
// Loaded after RequireJS and before embed-amd.js, on pages that store widget state
// (see nb_ipywidgets_js in _config.yml). Paths are worked out from this script's own
// URL, so they are right at every folder depth and also when a page is opened from
// disk.
(function () {
  "use strict";
  var staticRoot = document.currentScript.src.replace(/[^/]*$/, "");  // .../_static/
  // The widget modules find their fonts relative to their RequireJS module URL.
  window.require.config({
    paths: { "@jupyter-widgets": staticRoot + "vendor/jupyter-widgets" },
  });
  // The embedder loads widget modules it does not bundle from this "CDN". Pointing it
  // at a folder of this site keeps such a request local: it fails here, visibly,
  // instead of reaching out to the internet.
  document.currentScript.setAttribute(
    "data-jupyter-widgets-cdn", staticRoot + "vendor/jupyter-widgets/no-cdn/"
  );

  // ipywidgets 8 typesets widget labels with the MathJax 2 call
  // MathJax.Hub.Queue(["Typeset", MathJax.Hub, element]), which throws under the
  // book's MathJax 3. Give MathJax 3 that one entry point, forwarding to
  // typesetPromise. MathJax is loaded with `defer`, so it exists by
  // DOMContentLoaded, and widgets are rendered later, on the window's load event.
  function addTypesetShim() {
    var mathjax = window.MathJax;
    if (!mathjax || mathjax.Hub) return;  // no math on this page, or MathJax 2
    mathjax.Hub = {
      Queue: function (command) {
        var element = Array.isArray(command) ? command[2] : undefined;
        var started = (mathjax.startup && mathjax.startup.promise) || Promise.resolve();
        started
          .then(function () {
            if (mathjax.typesetPromise) return mathjax.typesetPromise(element ? [element] : undefined);
          })
          .catch(function (error) {
            console.warn("MathJax could not typeset a widget label:", error);
          });
      },
    };
  }
  document.addEventListener("DOMContentLoaded", addTypesetShim);
})();
