// Suggest the schema from the display name until the schema is edited by hand.
(function () {
  var name = document.getElementById('display_name'), schema = document.getElementById('schema');
  var touched = schema.value !== '';
  schema.addEventListener('input', function () { touched = true; });
  name.addEventListener('input', function () {
    if (touched) return;
    schema.value = name.value.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
      .replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').replace(/^([0-9])/, 's_$1').slice(0, 63);
  });
})();
