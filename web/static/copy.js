// Copy buttons for secrets shown once. Without JavaScript the secret stays selectable text.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  await navigator.clipboard.writeText(source.textContent.trim());
  button.textContent = button.dataset.copied || "Copied"; // the page's language
});

function revealCopyButtons() {
  if (!navigator.clipboard) return;
  document.querySelectorAll("[data-copy][hidden]").forEach((button) => { button.hidden = false; });
}
document.addEventListener("DOMContentLoaded", revealCopyButtons);
document.addEventListener("htmx:after:swap", revealCopyButtons);
