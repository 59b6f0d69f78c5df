/* /docs: Swagger UI (vendored) on this server's OpenAPI document. Nothing is fetched from elsewhere:
 * no validator badge, no remote presets. */
(function () {
  "use strict";
  var host = document.getElementById("swagger-ui");
  if (!host || typeof window.SwaggerUIBundle !== "function") return;
  window.ekgSwagger = window.SwaggerUIBundle({
    url: host.getAttribute("data-openapi") || "/openapi.json",
    dom_id: "#swagger-ui",
    validatorUrl: null,
    deepLinking: true,
    tryItOutEnabled: false,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    onComplete: function () { host.setAttribute("data-state", "ready"); },
  });
})();
