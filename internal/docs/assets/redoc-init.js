// Starts Redoc on /redoc. Kept as a separate file because the docs CSP
// forbids inline scripts (script-src 'self').
window.addEventListener("load", function () {
  Redoc.init("/openapi.json", {}, document.getElementById("redoc"));
});
