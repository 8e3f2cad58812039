"""Values and helpers every layer uses: the clock, crypto, ids, text, domain errors,
translation, and who is on the other end of a request. Imports nothing else of Latchkey."""
