// Runs ONNX models in ONNX Runtime for whittle's interop tests and benchmarks.
//
// Reads a JSON list of jobs on stdin and writes a JSON list of results on stdout. A job:
//   {"model": PATH, "inputs": [{"name", "type", "dims", "file"}], "out_dir": DIR,
//    "optimized_model": PATH (optional: ORT saves its optimized graph there),
//    "graph_optimization": "all"|"basic"|"extended"|"disabled" (default "all"),
//    "threads": N (intra-op threads, 0 = ORT's default),
//    "warmup": N, "runs": N (optional: time N runs after N warm-up runs)}
// Input files hold the raw little-endian elements; outputs are written the same way, and
// the result lists {"name", "type", "dims", "file"} per output plus "latency_ms" and
// "cpu_ms" (the process's CPU time per run, all threads) when timed.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

const arrays = {
  float32: Float32Array, float64: Float64Array, int8: Int8Array, uint8: Uint8Array,
  int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array,
  int64: BigInt64Array, uint64: BigUint64Array, bool: Uint8Array, float16: Uint16Array,
};

function readInput(inp) {
  const buf = fs.readFileSync(inp.file);
  const Ctor = arrays[inp.type];
  if (!Ctor) throw new Error(`input ${inp.name}: unsupported type ${inp.type}`);
  const copy = new Uint8Array(buf.length);
  copy.set(buf);
  const data = new Ctor(copy.buffer, 0, buf.length / Ctor.BYTES_PER_ELEMENT);
  return new ort.Tensor(inp.type, inp.type === 'bool' ? Uint8Array.from(data) : data, inp.dims);
}

async function runJob(job) {
  const opts = { graphOptimizationLevel: job.graph_optimization || 'all' };
  if (job.threads) { opts.intraOpNumThreads = job.threads; opts.interOpNumThreads = 1; }
  if (job.optimized_model) opts.optimizedModelFilePath = job.optimized_model;
  const session = await ort.InferenceSession.create(job.model, opts);
  const feeds = {};
  for (const inp of job.inputs || []) feeds[inp.name] = readInput(inp);
  let outputs = await session.run(feeds);
  const result = { model: job.model, outputs: [] };
  if (job.runs) {
    for (let i = 0; i < (job.warmup || 0); i++) await session.run(feeds);
    const times = [];
    const cpu = [];
    for (let i = 0; i < job.runs; i++) {
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      outputs = await session.run(feeds);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1e3);
    }
    result.latency_ms = times;
    result.cpu_ms = cpu;
  }
  if (job.out_dir) fs.mkdirSync(job.out_dir, { recursive: true });
  session.outputNames.forEach((name, i) => {
    const t = outputs[name];
    const entry = { name, type: t.type, dims: t.dims.map(Number) };
    if (job.out_dir) {
      entry.file = path.join(job.out_dir, `output_${i}.bin`);
      const d = t.data;
      fs.writeFileSync(entry.file, Buffer.from(d.buffer, d.byteOffset, d.byteLength));
    }
    result.outputs.push(entry);
  });
  await session.release();
  return result;
}

async function main() {
  const jobs = JSON.parse(fs.readFileSync(0, 'utf8'));
  const results = [];
  for (const job of jobs) {
    try {
      results.push(await runJob(job));
    } catch (e) {
      results.push({ model: job.model, error: String(e && e.message || e) });
    }
  }
  process.stdout.write(JSON.stringify(results));
}

main().catch((e) => { console.error(e); process.exit(1); });
