// Starts Swagger UI on /docs. Kept as a separate file because the docs CSP
// forbids inline scripts (script-src 'self').
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    // No badge image from validator.swagger.io: the page loads nothing cross-origin.
    validatorUrl: null
  });
});
