// GraphiQL for /graphql. Same origin, so the session cookie goes with every request; the
// JSON content type is what /graphql requires of cookie requests (a cross-site form
// cannot send it).
(function () {
  "use strict";

  var root = document.getElementById("graphiql");
  var endpoint = root.getAttribute("data-endpoint");
  // The <style> a GraphiQL dialog adds while open carries this nonce, which the page's CSP
  // allows (the library reads the global its bundler would have set).
  window.__webpack_nonce__ = root.getAttribute("data-style-nonce");

  var DEFAULT_QUERY = [
    "# Run with Ctrl-Enter or the play button.",
    "# Signed in on this site, you are the viewer. Scripts send",
    "# Authorization: Bearer lk_at_... (Headers, below) instead.",
    "",
    "{",
    "  viewer {",
    "    username",
    "  }",
    "}",
    "",
  ].join("\n");

  function fetcher(params, options) {
    var headers = { "Content-Type": "application/json", Accept: "application/json" };
    var extra = (options && options.headers) || {};
    Object.keys(extra).forEach(function (name) {
      headers[name] = extra[name];
    });
    return fetch(endpoint, {
      method: "POST",
      credentials: "same-origin",
      headers: headers,
      body: JSON.stringify(params),
    }).then(function (response) {
      return response.text().then(function (text) {
        try {
          return JSON.parse(text);
        } catch (error) {
          // 413, 503 and the like may answer in plain text: show it as an error.
          return { errors: [{ message: response.status + " " + text }] };
        }
      });
    });
  }

  // CodeMirror's editors type into hidden textareas that GraphiQL leaves unnamed: a screen
  // reader would announce four anonymous text fields. Each gets the name of its editor, and
  // again whenever GraphiQL draws one anew.
  var EDITOR_NAMES = [
    [".graphiql-query-editor textarea", "Query"],
    [".graphiql-editor-tool .graphiql-editor:nth-child(1) textarea", "Variables"],
    [".graphiql-editor-tool .graphiql-editor:nth-child(2) textarea", "Headers"],
    [".graphiql-response textarea", "Response"],
  ];
  function nameEditors() {
    EDITOR_NAMES.forEach(function (entry) {
      document.querySelectorAll(entry[0]).forEach(function (field) {
        if (!field.hasAttribute("aria-label")) field.setAttribute("aria-label", entry[1]);
      });
    });
  }
  new MutationObserver(nameEditors).observe(root, { childList: true, subtree: true });

  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: DEFAULT_QUERY,
      inputValueDeprecation: true,
      isHeadersEditorEnabled: true,
      // Headers may hold bearer tokens: never keep them in localStorage.
      shouldPersistHeaders: false,
    })
  );
})();
