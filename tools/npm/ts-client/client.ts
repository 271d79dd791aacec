// Type-level check of the OpenAPI description: this file only compiles if the
// spec still describes these endpoints with these fields. Generated types come
// from ../ts-check.sh (openapi-typescript -> generated/schema.d.ts).
import createClient from "openapi-fetch";
import type { paths } from "./generated/schema";

export const client = createClient<paths>({ baseUrl: "http://127.0.0.1:8080" });

// GET /health: a bare probe body, not an envelope.
export async function healthStatus(): Promise<string> {
  const { data, error, response } = await client.GET("/health");
  if (data === undefined) {
    throw new Error(`GET /health: HTTP ${response.status}: ${JSON.stringify(error)}`);
  }
  const status: string = data.status;
  return status;
}

export interface VersionInfo {
  version: string;
  commit: string;
  buildTime: string;
  goVersion: string;
  requestId: string;
}

// GET /api/version: the standard envelope, with the build information in data.
export async function version(): Promise<VersionInfo> {
  const { data, error, response } = await client.GET("/api/version");
  if (data === undefined) {
    throw new Error(`GET /api/version: HTTP ${response.status}: ${JSON.stringify(error)}`);
  }
  const success: boolean = data.success;
  if (!success) {
    throw new Error("GET /api/version: success=false");
  }
  return {
    version: data.data.version,
    commit: data.data.commit,
    buildTime: data.data.build_time,
    goVersion: data.data.go_version,
    requestId: data.metadata.request_id,
  };
}
