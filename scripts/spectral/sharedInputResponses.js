// Spectral function (rule shared-input-responses in .spectral.yaml): every operation declares
// the answers of the input rules every request goes through (docs/operations.md, "Input
// rules"): 400 (malformed: invalid UTF-8, duplicate keys or parameters), 414 (URL over 8 KiB),
// 431 (headers over 64 KiB); 422 (NUL in text) when it takes parameters or a body (OFREP maps
// it to its own 400); and 504 (REQUEST_TIMEOUT_SECONDS) unless it is a stream (a 101 switch or
// a text/event-stream answer), which the deadline exempts.
export default (op, _opts, context) => {
  const responses = (op && op.responses) || {};
  const path = String(context.path[1] || "");
  const has = (code) => Object.prototype.hasOwnProperty.call(responses, code);
  const streaming = Object.entries(responses).some(
    ([code, r]) => code === "101" || Boolean(r && r.content && r.content["text/event-stream"]),
  );
  const pathItem = context.document.data.paths[path] || {};
  const takesInput = (op.parameters || []).length > 0 || (pathItem.parameters || []).length > 0 || Boolean(op.requestBody);
  const want = ["400", "414", "431"];
  if (takesInput && !path.startsWith("/ofrep/")) want.push("422");
  if (!streaming) want.push("504");
  return want
    .filter((code) => !has(code))
    .map((code) => ({ message: `missing the shared ${code} response (see components/responses and docs/operations.md "Input rules")`, path: [...context.path, "responses"] }));
};
