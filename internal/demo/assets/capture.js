// Microphone capture for /demo/voice. This one file is loaded twice: as the AudioWorklet
// module, where it registers the "pcm16-capture" processor, and as a page script, where it
// only defines PCM16Resampler for the ScriptProcessor fallback (browsers without AudioWorklet).
'use strict';

// PCM16Resampler turns float samples at inRate into PCM16 frames of frameSamples at outRate.
// Each output sample is the mean of the input samples it covers: a box low-pass that keeps
// aliasing out of speech when a 44.1/48 kHz microphone is brought down to 16 kHz. Below
// outRate it repeats samples instead. The fractional step carries over between calls.
class PCM16Resampler {
  constructor(inRate, outRate, frameSamples) {
    this.step = inRate / outRate;
    this.pos = 0;
    this.sum = 0;
    this.n = 0;
    this.last = 0;
    this.size = frameSamples;
    this.frame = new Int16Array(frameSamples);
    this.fill = 0;
  }

  // push consumes input (a Float32Array in [-1, 1]) and calls emit(Int16Array) for each full frame.
  push(input, emit) {
    for (let i = 0; i < input.length; i++) {
      this.sum += input[i];
      this.n++;
      this.pos += 1;
      while (this.pos >= this.step) {
        this.pos -= this.step;
        if (this.n > 0) {
          this.last = this.sum / this.n;
          this.sum = 0;
          this.n = 0;
        }
        const v = Math.max(-1, Math.min(1, this.last));
        this.frame[this.fill++] = v < 0 ? v * 0x8000 : v * 0x7fff;
        if (this.fill === this.size) {
          emit(this.frame);
          this.frame = new Int16Array(this.size);
          this.fill = 0;
        }
      }
    }
  }
}

if (typeof registerProcessor === 'function') {
  // In the AudioWorkletGlobalScope: sampleRate is the context's rate.
  class PCM16Capture extends AudioWorkletProcessor {
    constructor(options) {
      super();
      const o = (options && options.processorOptions) || {};
      this.stopped = false;
      this.resampler = new PCM16Resampler(sampleRate, o.outRate || 16000, o.frameSamples || 320);
      this.port.onmessage = (e) => {
        if (e.data === 'stop') this.stopped = true;
      };
    }

    process(inputs) {
      if (this.stopped) return false;
      const mono = inputs[0] && inputs[0][0]; // the node downmixes to one channel
      if (mono) {
        this.resampler.push(mono, (frame) => this.port.postMessage(frame.buffer, [frame.buffer]));
      }
      return true;
    }
  }
  registerProcessor('pcm16-capture', PCM16Capture);
} else {
  self.PCM16Resampler = PCM16Resampler;
}
