import type { Handler, ReadDeps } from "../context";
import { json } from "../http";

/** `GET /v2/` — API version check (spec §"Determining support"). */
export const apiVersion: Handler<ReadDeps> = async () => json({});
