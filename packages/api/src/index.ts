export type { Access, AppDeps, Authorize, Grant, Handler, RouteRequest } from "./context";
export { createRegistryApp, errorResponse, openAuthorize, readOnlyAuthorize } from "./app";
export { bodyLimit, bodyTooLarge, parseBodyLimit } from "./body-limit";
export { withoutBlobOrigin } from "./blob-urls";
export type { AppOptions, RegistryApp } from "./app";
export { READ_ROUTES, ROUTES, requestedDigest, routeMatcher } from "./routes";
export type { MatchedRoute, Method, Need, Route, RouteMiddleware } from "./routes";
export { tokenAuthorize } from "./token-authorize";
export type { TokenAuthOptions } from "./token-authorize";
