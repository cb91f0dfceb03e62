/**
 * What the local server, standing in for API Gateway, tells the handler when it failed on a
 * request before the handler ran: the handler then still routes the request (its method and
 * path survive) and answers it 500, so the invocation is captured with the status its caller
 * got. Carried by the Lambda context, which a caller cannot set; on AWS it is never there.
 */
export interface GatewayContext {
  readonly gatewayFault?: Error;
}
