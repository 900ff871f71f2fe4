// A file chosen in <input type="file" data-fills="ID"> becomes the text of the field ID (an
// identity provider's metadata file, read in the browser; the form still posts text).
for (const picker of document.querySelectorAll("input[type=file][data-fills]")) {
  picker.addEventListener("change", async () => {
    const field = document.getElementById(picker.dataset.fills);
    const file = picker.files && picker.files[0];
    if (field && file) {
      field.value = await file.text();
    }
  });
}
