// Counts a new password the way the server does (code points after NFKC) and says what is missing.
document.addEventListener("input", (event) => {
  const input = event.target;
  if (!input.matches || !input.matches("input[data-min-length]")) return;
  const hint = document.querySelector(`[data-hint-for="${input.id}"]`);
  const length = [...input.value.normalize("NFKC")].length;
  const min = Number(input.dataset.minLength);
  const max = Number(input.dataset.maxLength);
  if (length === 0) return;
  // The sentences come translated with the page, with {length}, {min} and {max} to fill.
  const say = (text) => text.replace(/\{(length|min|max)\}/g, (_, name) => ({ length, min, max })[name]);
  if (length < min) hint.textContent = say(hint.dataset.tooShort || "{length} of at least {min} characters.");
  else if (length > max) hint.textContent = say(hint.dataset.tooLong || "{length} characters: at most {max}.");
  else hint.textContent = say(hint.dataset.longEnough || "{length} characters: long enough. The server also refuses common passwords.");
});
