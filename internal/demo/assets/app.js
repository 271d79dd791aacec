// The /demo/voice client: speaks the protocol of /api/voice/pipeline-ws (docs/voice.md).
// Microphone audio goes up as binary 0x01 frames of 16 kHz PCM16 (20 ms each); the spoken
// answer comes back as binary 0x02 frames of PCM16 at output_sample_rate and is queued
// gap-free on an AudioContext. window.voiceStats exposes what happened, for tests.
'use strict';
(function () {
  const INPUT_RATE = 16000;
  const FRAME_SAMPLES = 320; // 20 ms at 16 kHz
  const MAX_BUFFERED = 256 * 1024; // socket backlog beyond which microphone frames are dropped
  const MAX_LOG_LINES = 200;

  const stats = {
    framesSent: 0,
    framesDropped: 0,
    samplesPlayed: 0,
    samplesQueued: 0, // answer audio scheduled for playback (played or still to come)
    samplesDropped: 0, // answer audio that arrived after our barge-in
    transcripts: [],
    answers: [],
    citations: [],
    state: 'idle',
    connected: false,
    sessionId: null,
    errors: [],
  };
  window.voiceStats = stats;

  const $ = (id) => document.getElementById(id);
  const ui = {
    token: $('token'), connect: $('connect'), disconnect: $('disconnect'), connForm: $('connect-form'),
    conn: $('conn'), state: $('state'), mic: $('mic'), frames: $('frames'), played: $('played'),
    barge: $('barge'), message: $('message'), send: $('send'), msgForm: $('message-form'),
    turns: $('turns'), log: $('log'),
  };

  let ws = null;
  let ctx = null; // AudioContext, created on the user's click (autoplay policy)
  let capture = null; // {stop()} of the running microphone capture
  let binary = false; // binary_audio negotiated
  let inSeq = 0;
  let outRate = 24000;
  let playHead = 0; // AudioContext time at which the next answer chunk starts
  let sources = new Set(); // scheduled answer chunks, stopped on barge-in
  let audioTurn = null; // turn of the audio now arriving (from audio.output.meta)
  let bargedTurn = null; // turn cut by our barge-in: its late audio is dropped
  let typed = null; // a typed question waiting for its turn id
  const turns = new Map(); // turn_id -> {li, question, answer, cites}

  function log(text) {
    const lines = ui.log.textContent.split('\n').filter(Boolean);
    lines.push(new Date().toISOString().slice(11, 23) + ' ' + text);
    ui.log.textContent = lines.slice(-MAX_LOG_LINES).join('\n') + '\n';
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function refresh() {
    const open = !!ws && ws.readyState === WebSocket.OPEN;
    ui.connect.disabled = !!ws;
    ui.disconnect.disabled = !ws;
    ui.barge.disabled = !open;
    ui.message.disabled = !open;
    ui.send.disabled = !open;
    ui.frames.textContent = String(stats.framesSent);
    ui.played.textContent = String(stats.samplesPlayed);
  }

  function setState(s) {
    stats.state = s;
    ui.state.textContent = s;
    ui.state.dataset.state = s;
  }

  function send(obj) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(obj));
  }

  // ---- connection ----

  function connect(token) {
    if (ws || !token) return;
    if (!ctx) ctx = new AudioContext();
    if (ctx.state === 'suspended') {
      ctx.resume().catch(() => log('audio is blocked until you click on the page'));
    }
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/voice/pipeline-ws';
    ws = new WebSocket(url, ['bearer', token]);
    ws.binaryType = 'arraybuffer';
    ui.conn.textContent = 'connecting';
    ws.onopen = () => {
      stats.connected = true;
      ui.conn.textContent = 'connected';
      send({ type: 'session.init', features: ['binary_audio'] });
      refresh();
    };
    ws.onmessage = (e) => {
      if (typeof e.data === 'string') {
        let m;
        try {
          m = JSON.parse(e.data);
        } catch (err) {
          log('unreadable frame from the server');
          return;
        }
        onEvent(m);
      } else {
        onAudio(e.data);
      }
    };
    ws.onclose = (e) => {
      log('closed: ' + e.code + (e.reason ? ' ' + e.reason : ''));
      ws = null;
      teardown();
    };
    refresh();
  }

  function disconnect() {
    if (ws) ws.close(1000, 'bye');
  }

  function teardown() {
    stats.connected = false;
    ui.conn.textContent = 'disconnected';
    stopMic();
    stopPlayback();
    setState('idle');
    refresh();
  }

  // ---- server events ----

  function onEvent(m) {
    switch (m.type) {
      case 'session.ready':
        stats.sessionId = m.session_id;
        outRate = m.output_sample_rate || outRate;
        log('session ' + m.session_id + ' (conversation ' + m.conversation_id + ')');
        startMic().catch((err) => {
          ui.mic.textContent = 'failed';
          log('microphone: ' + err.message);
        });
        break;
      case 'session.init.ack':
        binary = Array.isArray(m.features) && m.features.includes('binary_audio');
        break;
      case 'voice.state':
        setState(m.state);
        if (m.reason) log('state ' + m.state + ' (' + m.reason + ')');
        // The server sends speech faster than real time, so it may be listening again while
        // the answer still plays here: a barge-in, or a new turn (the user spoke or typed),
        // cuts what is left of it.
        if ((m.state === 'listening' && m.reason === 'barge_in') || m.state === 'thinking') stopPlayback();
        break;
      case 'transcript.delta':
        turn(m.turn_id).question.textContent = m.text;
        break;
      case 'transcript.complete': {
        const q = turn(m.turn_id).question;
        q.textContent = m.text;
        q.classList.remove('partial');
        stats.transcripts.push(m.text);
        break;
      }
      case 'response.delta': {
        const t = turn(m.turn_id);
        t.answer.textContent += m.delta;
        break;
      }
      case 'response.complete':
        onAnswer(m);
        break;
      case 'audio.output.meta':
        audioTurn = m.turn_id;
        if (m.sample_rate) outRate = m.sample_rate;
        break;
      case 'audio.output':
        play(decodeBase64PCM(m.audio));
        break;
      case 'error':
        stats.errors.push(m.code);
        log('error ' + m.code + ': ' + m.message);
        break;
      case 'heartbeat':
      case 'pong':
        break;
      default:
        log('event ' + m.type);
    }
    refresh();
  }

  function turn(id) {
    let t = turns.get(id);
    if (t) return t;
    const li = document.createElement('li');
    const question = document.createElement('div');
    question.className = 'question partial';
    const answer = document.createElement('div');
    answer.className = 'answer';
    const cites = document.createElement('ol');
    cites.className = 'citations';
    if (typed !== null) {
      question.textContent = typed;
      question.classList.remove('partial');
      typed = null;
    }
    li.append(question, answer, cites);
    ui.turns.append(li);
    t = { li, question, answer, cites };
    turns.set(id, t);
    return t;
  }

  function onAnswer(m) {
    const t = turn(m.turn_id);
    t.answer.textContent = m.content;
    t.answer.classList.toggle('interrupted', !!m.interrupted);
    t.cites.replaceChildren();
    for (const c of m.citations || []) {
      const li = document.createElement('li');
      li.value = c.n;
      const title = document.createElement('span');
      title.textContent = c.title + (c.heading && c.heading.length ? ' — ' + c.heading.join(' › ') : '');
      const doc = document.createElement('span');
      doc.className = 'doc';
      doc.textContent = ' document ' + c.document_id + (c.page ? ', page ' + c.page : '');
      li.append(title, doc);
      if (c.snippet) li.title = c.snippet;
      t.cites.append(li);
      stats.citations.push({ n: c.n, title: c.title, document_id: c.document_id });
    }
    stats.answers.push(m.content);
    if (m.interrupted) stopPlayback();
  }

  // ---- answer playback ----

  function onAudio(buf) {
    const view = new DataView(buf);
    if (buf.byteLength < 5 || view.getUint8(0) !== 0x02) return;
    const n = (buf.byteLength - 5) >> 1;
    const samples = new Float32Array(n);
    for (let i = 0; i < n; i++) samples[i] = view.getInt16(5 + 2 * i, true) / 0x8000;
    play(samples);
  }

  function decodeBase64PCM(b64) {
    const bin = atob(b64 || '');
    const n = bin.length >> 1;
    const samples = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let v = bin.charCodeAt(2 * i) | (bin.charCodeAt(2 * i + 1) << 8);
      if (v >= 0x8000) v -= 0x10000;
      samples[i] = v / 0x8000;
    }
    return samples;
  }

  function play(samples) {
    if (!ctx || samples.length === 0) return;
    if (bargedTurn !== null && audioTurn === bargedTurn) {
      stats.samplesDropped += samples.length; // in flight when we barged in
      return;
    }
    const buffer = ctx.createBuffer(1, samples.length, outRate);
    buffer.copyToChannel(samples, 0);
    const src = ctx.createBufferSource();
    src.buffer = buffer;
    src.connect(ctx.destination);
    const start = Math.max(playHead, ctx.currentTime + 0.05);
    src.start(start);
    playHead = start + buffer.duration;
    stats.samplesQueued += samples.length;
    sources.add(src);
    src.onended = () => {
      sources.delete(src);
      if (!src.cancelled) stats.samplesPlayed += samples.length;
      refresh();
    };
  }

  function stopPlayback() {
    for (const src of sources) {
      src.cancelled = true;
      try {
        src.stop();
      } catch (e) {
        // not started yet in some browsers: nothing to stop
      }
    }
    sources = new Set();
    playHead = 0;
  }

  function bargeIn() {
    bargedTurn = audioTurn;
    stopPlayback();
    send({ type: 'barge_in' });
    log('barge-in');
  }

  // ---- microphone ----

  async function startMic() {
    if (capture || !ctx) return;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      ui.mic.textContent = 'unavailable (needs https or localhost)';
      return;
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
    } catch (err) {
      ui.mic.textContent = 'refused (' + err.name + ')';
      log('microphone: ' + err.name);
      return;
    }
    if (!ws) {
      stream.getTracks().forEach((tr) => tr.stop());
      return;
    }
    const source = ctx.createMediaStreamSource(stream);
    const sink = ctx.createGain(); // capture nodes must reach the destination to be pulled
    sink.gain.value = 0;
    sink.connect(ctx.destination);
    let node;
    if (ctx.audioWorklet && typeof AudioWorkletNode === 'function') {
      await ctx.audioWorklet.addModule('/demo/voice/capture.js');
      node = new AudioWorkletNode(ctx, 'pcm16-capture', {
        numberOfInputs: 1,
        numberOfOutputs: 1,
        outputChannelCount: [1],
        channelCount: 1,
        channelCountMode: 'explicit',
        processorOptions: { outRate: INPUT_RATE, frameSamples: FRAME_SAMPLES },
      });
      node.port.onmessage = (e) => sendFrame(new Int16Array(e.data));
    } else {
      const resampler = new window.PCM16Resampler(ctx.sampleRate, INPUT_RATE, FRAME_SAMPLES);
      node = ctx.createScriptProcessor(4096, 1, 1);
      node.onaudioprocess = (e) => {
        resampler.push(e.inputBuffer.getChannelData(0), sendFrame);
        e.outputBuffer.getChannelData(0).fill(0);
      };
    }
    source.connect(node);
    node.connect(sink);
    capture = {
      stop() {
        stream.getTracks().forEach((tr) => tr.stop());
        source.disconnect();
        node.disconnect();
        sink.disconnect();
        if (node.port) node.port.postMessage('stop');
      },
    };
    ui.mic.textContent = 'on (' + ctx.sampleRate + ' Hz → ' + INPUT_RATE + ' Hz)';
  }

  function stopMic() {
    if (capture) capture.stop();
    capture = null;
    ui.mic.textContent = 'off';
  }

  // sendFrame sends one frame of PCM16 samples: binary (0x01, big-endian seq, little-endian
  // samples) when negotiated, else audio.input with base64.
  function sendFrame(pcm) {
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED) {
      stats.framesDropped++;
      return;
    }
    inSeq++;
    const bytes = new Uint8Array(5 + pcm.length * 2);
    const view = new DataView(bytes.buffer);
    view.setUint8(0, 0x01);
    view.setUint32(1, inSeq, false);
    for (let i = 0; i < pcm.length; i++) view.setInt16(5 + 2 * i, pcm[i], true);
    if (binary) {
      ws.send(bytes.buffer);
    } else {
      let s = '';
      for (let i = 5; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
      send({ type: 'audio.input', audio: btoa(s), seq: inSeq });
    }
    stats.framesSent++;
    if (stats.framesSent % 25 === 0) refresh();
  }

  // ---- page ----

  ui.connForm.addEventListener('submit', (e) => {
    e.preventDefault();
    connect(ui.token.value.trim());
  });
  ui.disconnect.addEventListener('click', disconnect);
  ui.barge.addEventListener('click', bargeIn);
  ui.msgForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const content = ui.message.value.trim();
    if (!content) return;
    typed = content;
    send({ type: 'message', content });
    ui.message.value = '';
  });

  // #token=… fills in the token and connects; the fragment is then removed from the
  // address bar and history (it never reaches the server: fragments are not sent).
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    ui.token.value = decodeURIComponent(m[1]);
    history.replaceState(null, '', location.pathname + location.search);
    connect(ui.token.value);
  }
  refresh();
})();
