// Passkeys in the browser: the forms marked data-passkey-* are plain forms the server
// answers; this script only runs WebAuthn between the options the page carries (or asks
// for) and the credential it posts. Without WebAuthn, those forms stay hidden.
(() => {
  const supported = () =>
    window.PublicKeyCredential &&
    typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function" &&
    typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function";

  function reveal() {
    const ok = supported();
    document.querySelectorAll("[data-passkey-ui][hidden]").forEach((el) => { el.hidden = !ok; });
    document.querySelectorAll("[data-passkey-unsupported]").forEach((el) => { el.hidden = ok; });
    document.querySelectorAll("[data-passkeys-need-js]").forEach((el) => { el.hidden = true; });
    if (ok) startAutofill();
  }

  function fail(form, error) {
    const box = form.querySelector("[data-passkey-error]");
    if (!box) return;
    // The words come translated with the page (data-not-used, data-failed).
    box.textContent = error && error.name === "NotAllowedError"
      ? box.dataset.notUsed || "No passkey was used. Try again."
      : box.dataset.failed || "The passkey did not work here. Try again.";
    box.hidden = false;
  }

  function post(form, credential) {
    form.querySelector("input[name=credential]").value = JSON.stringify(credential.toJSON());
    // The second step's one "Remember this device" box, beside the code's form.
    const remember = form.querySelector("input[type=hidden][name=remember_device]");
    const box = document.getElementById("remember_device");
    if (remember) remember.value = box && box.checked ? "on" : "";
    form.submit(); // a plain post: the server answers with the page
  }

  // Adding a passkey: the section carries the creation options.
  async function create(form) {
    const options = JSON.parse(form.dataset.options);
    const credential = await navigator.credentials.create({
      publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options),
    });
    post(form, credential);
  }

  // The second step of signing in, or confirming access: the form carries the options.
  async function assert(form) {
    const options = JSON.parse(form.dataset.options);
    const credential = await navigator.credentials.get({
      publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options),
    });
    post(form, credential);
  }

  // Signing in with a passkey alone: one challenge per page, asked for when needed.
  let pending = null;
  let autofill = null;

  async function signInOptions(form) {
    if (!pending) {
      const body = new FormData();
      body.append("csrf_token", form.querySelector("input[name=csrf_token]").value);
      pending = fetch("/login/passkey/options", { method: "POST", body, credentials: "same-origin" })
        .then((response) => {
          if (!response.ok) {
            pending = null; // refused (too many started): a later try asks again
            throw new Error("options");
          }
          return response.json();
        });
    }
    const started = await pending;
    form.querySelector("input[name=challenge]").value = started.challenge;
    return PublicKeyCredential.parseRequestOptionsFromJSON(JSON.parse(started.options));
  }

  async function signIn(form, mediation) {
    const publicKey = await signInOptions(form);
    const request = { publicKey };
    if (mediation === "conditional") {
      autofill = new AbortController();
      request.mediation = "conditional";
      request.signal = autofill.signal;
    } else if (autofill) {
      autofill.abort();
      autofill = null;
    }
    const credential = await navigator.credentials.get(request);
    if (credential) post(form, credential);
  }

  async function startAutofill() {
    const form = document.querySelector("form[data-passkey-sign-in]");
    const field = document.querySelector("input[autocomplete~=webauthn]");
    if (!form || !field || autofill) return;
    if (!PublicKeyCredential.isConditionalMediationAvailable) return;
    if (!(await PublicKeyCredential.isConditionalMediationAvailable())) return;
    signIn(form, "conditional").catch(() => {}); // aborted, or the user typed a password
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    let run = null;
    if (form.matches("[data-passkey-create]")) run = () => create(form);
    else if (form.matches("[data-passkey-get]")) run = () => assert(form);
    else if (form.matches("[data-passkey-sign-in]")) run = () => signIn(form, "modal");
    if (!run) return;
    event.preventDefault();
    if (!supported()) return;
    run().catch((error) => fail(form, error));
  });

  document.addEventListener("DOMContentLoaded", reveal);
  document.addEventListener("htmx:after:swap", reveal);
})();
