// Counts a new password the way the server does (code points after NFKC) and says what is missing.
document.addEventListener("input", (event) => {
  const input = event.target;
  if (!input.matches || !input.matches("input[data-min-length]")) return;
  const hint = document.querySelector(`[data-hint-for="${input.id}"]`);
  const length = [...input.value.normalize("NFKC")].length;
  const min = Number(input.dataset.minLength);
  const max = Number(input.dataset.maxLength);
  if (length === 0) return;
  if (length < min) hint.textContent = `${length} of at least ${min} characters.`;
  else if (length > max) hint.textContent = `${length} characters: at most ${max}.`;
  else hint.textContent = `${length} characters: long enough. The server also refuses common passwords.`;
});
