// Kliniker: a move (up/down) posts its own form and reloads the page from the store,
// so edits typed in the settings form but not yet saved would be lost without a word.
// While there are such edits, a move is stopped and the operator is told to save first.
(function () {
  "use strict";
  var settings = document.getElementById("clinics-form");
  var moves = document.getElementById("move-form");
  var note = document.getElementById("unsaved-note");
  if (!settings || !moves || !note) return;
  var unsaved = false;
  function edited() {
    unsaved = true;
  }
  settings.addEventListener("input", edited);
  settings.addEventListener("change", edited);
  moves.addEventListener("submit", function (event) {
    if (!unsaved) return;
    event.preventDefault();
    note.hidden = false;
  });
})();
