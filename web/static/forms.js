// Small helpers for the page's forms. Everything here also works without it.

// The custom expiry date: disabled while another expiry is chosen, so a date typed
// earlier and then hidden is not sent (without JavaScript a filled date wins).
function syncCustomDates(root) {
  root.querySelectorAll("select[name=expiry]").forEach((select) => {
    const date = select.form && select.form.querySelector("input[name=custom_date]");
    if (date) date.disabled = select.value !== "custom";
  });
}
document.addEventListener("change", (event) => {
  if (event.target.matches("select[name=expiry]")) syncCustomDates(document);
});

// "Email or text me a code" swaps its section: keep what was typed into password
// fields of that section, in this page only, so the user need not type it again.
let kept = null;
document.addEventListener("htmx:before:swap", (event) => {
  const button = event.detail.ctx && event.detail.ctx.sourceElement;
  if (!button || !(button.getAttribute("hx-post") || "").endsWith("/send-code")) return;
  const section = button.closest("section");
  kept = {};
  if (section) section.querySelectorAll("input[type=password]").forEach((input) => {
    if (input.id && input.value) kept[input.id] = input.value;
  });
});

// After a failed submit, focus goes to the first error: the first field marked invalid,
// else the field a message follows, else the message itself.
function focusFirstError(root) {
  const invalid = root.querySelector("[aria-invalid=true]");
  if (invalid) { invalid.focus(); return true; }
  const message = root.querySelector(".field-error, .error[role=alert]");
  if (!message) return false;
  for (let before = message.previousElementSibling; before; before = before.previousElementSibling) {
    if (before.matches("input:not([type=hidden]), select, textarea")) { before.focus(); return true; }
    if (before.matches(".field-error, label")) break;
  }
  message.setAttribute("tabindex", "-1");
  message.focus();
  return true;
}

// After a change went through, its outcome ("Saved.", a new secret shown once) is where the
// user looks: scrolled into view and focused, so a screen reader reads it too. The section
// was replaced, so whatever had focus before is gone.
function showOutcome(root) {
  const outcome = [...root.querySelectorAll("[role=status]")].find((el) => !el.hidden);
  if (!outcome) return;
  outcome.setAttribute("tabindex", "-1");
  outcome.focus({ preventScroll: true });
  outcome.scrollIntoView({ block: "nearest" });
}

document.addEventListener("htmx:after:swap", (event) => {
  if (kept) {
    for (const [id, value] of Object.entries(kept)) {
      const input = document.getElementById(id);
      if (input && !input.value) input.value = value;
    }
    kept = null;
  }
  syncCustomDates(document);
  const swapped = event.detail.ctx && event.detail.ctx.target;
  const section = swapped && swapped.id ? document.getElementById(swapped.id) : null;
  if (section && !focusFirstError(section)) showOutcome(section);
});

document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});

function revealPrintButtons() {
  document.querySelectorAll("[data-print][hidden]").forEach((button) => { button.hidden = false; });
}
document.addEventListener("htmx:after:swap", revealPrintButtons);

document.addEventListener("DOMContentLoaded", () => {
  syncCustomDates(document);
  revealPrintButtons();
  if (!document.querySelector("[autofocus]")) focusFirstError(document.querySelector("main") || document);
});
