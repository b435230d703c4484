export type { Access, AppDeps, Authorize, Grant, Handler, RouteRequest } from "./context";
export { createRegistryApp, errorResponse, openAuthorize, readOnlyAuthorize } from "./app";
export type { AppOptions, RegistryApp } from "./app";
export { READ_ROUTES, ROUTES } from "./routes";
export type { Method, Need, Route } from "./routes";
export { tokenAuthorize } from "./token-authorize";
export type { TokenAuthOptions } from "./token-authorize";
