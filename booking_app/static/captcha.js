/* Proof-of-work for the booking confirmation (see booking_app/captcha.py).
   Finds a nonce such that SHA-256(challenge + nonce) starts with `data-bits` zero
   bits, then submits the form. Plain synchronous SHA-256: WebCrypto's digest() is
   asynchronous per call, far too slow for tens of thousands of tiny hashes. The work
   runs in slices so the page stays responsive and the status text is read out. */
(function () {
  "use strict";

  var K = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
  ]);
  var W = new Uint32Array(64);

  /* The first 32-bit word of SHA-256 of the ASCII bytes in `bytes[0..length)`,
     and the second (enough for up to 64 leading zero bits). */
  function sha256Head(bytes, length) {
    var bitLength = length * 8;
    var padded = ((length + 9 + 63) >> 6) << 6;
    var h0 = 0x6a09e667, h1 = 0xbb67ae85, h2 = 0x3c6ef372, h3 = 0xa54ff53a;
    var h4 = 0x510e527f, h5 = 0x9b05688c, h6 = 0x1f83d9ab, h7 = 0x5be0cd19;
    for (var block = 0; block < padded; block += 64) {
      for (var i = 0; i < 16; i++) {
        var w = 0;
        for (var j = 0; j < 4; j++) {
          var p = block + i * 4 + j, b;
          if (p < length) b = bytes[p];
          else if (p === length) b = 0x80;
          else if (p >= padded - 4) b = (bitLength >>> ((padded - 1 - p) * 8)) & 0xff;
          else b = 0;
          w = (w << 8) | b;
        }
        W[i] = w;
      }
      for (i = 16; i < 64; i++) {
        var x = W[i - 15], y = W[i - 2];
        var s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
        var s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
        W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
      }
      var a = h0, b2 = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7;
      for (i = 0; i < 64; i++) {
        var S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
        var ch = (e & f) ^ (~e & g);
        var t1 = (h + S1 + ch + K[i] + W[i]) | 0;
        var S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
        var maj = (a & b2) ^ (a & c) ^ (b2 & c);
        var t2 = (S0 + maj) | 0;
        h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b2; b2 = a; a = (t1 + t2) | 0;
      }
      h0 = (h0 + a) | 0; h1 = (h1 + b2) | 0; h2 = (h2 + c) | 0; h3 = (h3 + d) | 0;
      h4 = (h4 + e) | 0; h5 = (h5 + f) | 0; h6 = (h6 + g) | 0; h7 = (h7 + h) | 0;
    }
    return [h0 >>> 0, h1 >>> 0];
  }

  function leadingZeroBits(words) {
    if (words[0] !== 0) return Math.clz32(words[0]);
    return 32 + Math.clz32(words[1]);
  }

  function solve(challenge, bits, done) {
    var prefix = [];
    for (var i = 0; i < challenge.length; i++) prefix.push(challenge.charCodeAt(i) & 0x7f);
    var bytes = new Uint8Array(prefix.length + 20);
    bytes.set(prefix);
    var nonce = 0;
    function slice() {
      var end = nonce + 20000;
      for (; nonce < end; nonce++) {
        var digits = String(nonce);
        for (var k = 0; k < digits.length; k++) bytes[prefix.length + k] = digits.charCodeAt(k);
        if (leadingZeroBits(sha256Head(bytes, prefix.length + digits.length)) >= bits) {
          done(digits);
          return;
        }
      }
      setTimeout(slice, 0);
    }
    slice();
  }

  function setUp(form) {
    var status = form.querySelector("[role=status]");
    var button = form.querySelector("button[type=submit]");
    var solved = false;
    form.addEventListener("submit", function (event) {
      if (solved) return;
      event.preventDefault();
      if (button.disabled) return;
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      status.textContent = status.getAttribute("data-working");
      solve(form.elements.challenge.value, parseInt(form.getAttribute("data-bits"), 10), function (nonce) {
        form.elements.nonce.value = nonce;
        solved = true;
        form.submit();
      });
    });
  }

  function start() {
    var forms = document.querySelectorAll("form[data-proof-of-work]");
    for (var i = 0; i < forms.length; i++) setUp(forms[i]);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
