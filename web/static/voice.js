// The dashboard's voice button: record with MediaRecorder (WebM/Opus), transcribe on this instance
// (POST /voice/transcribe), show the transcript, run the command (POST /api/voice/command), and
// speak the answer (POST /voice/speak, played through Web Audio: the page's CSP allows no blob:
// media). Nothing goes to a cloud speech API. The button stays hidden unless GET /voice/info says
// speech-to-text works here.
(() => {
  'use strict';
  const $ = (s) => document.querySelector(s);
  const MAX_SECONDS = 10;
  let recorder;
  let stopTimer;

  async function json(method, path, body) {
    const r = await fetch(path, { method, credentials: 'same-origin', headers: body === undefined ? {} : { 'content-type': 'application/json' }, body });
    const data = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(data.error || `${r.status} ${r.statusText}`);
    return data;
  }

  function show(transcript, answer) {
    const panel = $('#voice-panel');
    if (!panel) return;
    panel.hidden = false;
    if (transcript !== undefined) $('#voice-transcript').textContent = transcript ? `“${transcript}”` : '';
    if (answer !== undefined) $('#voice-answer').textContent = answer;
  }

  async function speak(text) {
    const r = await fetch('/voice/speak', { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }) });
    if (!r.ok) return;
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    const ctx = new Ctx();
    const buf = await ctx.decodeAudioData(await r.arrayBuffer());
    const src = ctx.createBufferSource();
    src.buffer = buf;
    src.connect(ctx.destination);
    await new Promise((done) => {
      src.onended = done;
      src.start();
      setTimeout(done, buf.duration * 1000 + 500); // a suspended context never ends
    });
    $('#voice-answer')?.setAttribute('data-spoken', String(Math.round(buf.duration * 10) / 10));
    ctx.close().catch(() => undefined);
  }

  async function act(answer) {
    const a = answer.action;
    if (!a) return;
    if (a.type === 'navigate') location.assign(a.href);
    if (a.type === 'sign-and-submit') {
      if (!window.nostr) throw new Error('no NIP-07 signer in this browser');
      const e = await window.nostr.signEvent({ ...a.template, created_at: Math.floor(Date.now() / 1000) });
      const r = await json('POST', '/api/jobs', JSON.stringify(e));
      location.assign(`/jobs/${r.id}`);
    }
  }

  async function handle(blob) {
    const button = $('#voice-button');
    button.disabled = true;
    show('', 'Transcribing…');
    try {
      const r = await fetch('/voice/transcribe', { method: 'POST', credentials: 'same-origin', headers: { 'content-type': blob.type || 'audio/webm' }, body: blob });
      const t = await r.json().catch(() => ({}));
      if (!r.ok) throw new Error(t.error || `transcription failed (${r.status})`);
      show(t.text, t.text ? 'Thinking…' : 'I heard nothing.');
      if (!t.text) return;
      const answer = await json('POST', '/api/voice/command', JSON.stringify({ text: t.text }));
      $('#voice-panel').dataset.intent = answer.intent.intent;
      show(undefined, answer.say);
      await speak(answer.say).catch(() => undefined);
      await act(answer);
    } catch (err) {
      show(undefined, `Voice: ${err.message}`);
    } finally {
      button.disabled = false;
    }
  }

  async function start() {
    const button = $('#voice-button');
    const stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false } });
    const type = ['audio/webm;codecs=opus', 'audio/webm', 'audio/ogg;codecs=opus'].find((t) => window.MediaRecorder && MediaRecorder.isTypeSupported(t));
    recorder = new MediaRecorder(stream, type ? { mimeType: type } : {});
    const chunks = [];
    recorder.ondataavailable = (e) => e.data.size > 0 && chunks.push(e.data);
    recorder.onstop = () => {
      for (const t of stream.getTracks()) t.stop();
      button.setAttribute('aria-pressed', 'false');
      recorder = undefined;
      void handle(new Blob(chunks, { type: (type || 'audio/webm').split(';')[0] }));
    };
    recorder.start();
    button.setAttribute('aria-pressed', 'true');
    show('', 'Listening… click again to stop.');
    stopTimer = setTimeout(stop, MAX_SECONDS * 1000);
  }

  function stop() {
    clearTimeout(stopTimer);
    if (recorder && recorder.state !== 'inactive') recorder.stop();
  }

  async function init() {
    const button = $('#voice-button');
    if (!button || !navigator.mediaDevices || !window.MediaRecorder) return;
    const controls = $('#voice-controls');
    try {
      const info = await json('GET', '/voice/info');
      if (!info.available || !info.stt || !info.stt.available) return void (controls.dataset.voice = 'off');
    } catch {
      return void (controls.dataset.voice = 'off'); // no voice service: the button stays hidden
    }
    controls.dataset.voice = 'on';
    button.hidden = false;
    button.addEventListener('click', () => {
      if (recorder) return stop();
      start().catch((err) => show(undefined, `Microphone: ${err.message}`));
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else void init();
})();
