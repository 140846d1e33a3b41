// GraphiQL's fetcher for casetime: queries and mutations over HTTP POST, subscriptions over the graphql-transport-ws
// protocol on the same path, with the Authorization of GraphiQL's Headers sent in connection_init's payload.
(function (global) {
  "use strict";

  function isSubscription(params) {
    const name = params.operationName ? params.operationName + "\\b" : "";
    return new RegExp("(^|[^\\w$])subscription\\s*" + name).test(params.query);
  }

  // the operation's results as an async iterable, ended by the server's complete or error, or by the caller
  function subscribe(url, params, headers) {
    const waiting = [];
    let wake = null;
    let ended = false;
    const push = (item) => {
      waiting.push(item);
      if (wake) {
        wake();
        wake = null;
      }
    };
    const socket = new global.WebSocket(url, "graphql-transport-ws");
    const send = (message) => socket.send(JSON.stringify(message));
    socket.onopen = () => send({ type: "connection_init", payload: { Authorization: headers.Authorization || "" } });
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "connection_ack") {
        send({ type: "subscribe", id: "1", payload: params });
      } else if (message.type === "ping") {
        send({ type: "pong" });
      } else if (message.type === "next") {
        push(message.payload);
      } else if (message.type === "error") {
        push({ errors: message.payload });
        socket.close(1000);
      } else if (message.type === "complete") {
        socket.close(1000);
      }
    };
    socket.onclose = (event) => {
      if (event.code !== 1000) {
        push({ errors: [{ message: "The connection closed: " + event.code + " " + (event.reason || "") }] });
      }
      ended = true;
      push(null);
    };
    return {
      [Symbol.asyncIterator]() {
        return {
          async next() {
            while (waiting.length === 0) {
              await new Promise((resolve) => (wake = resolve));
            }
            const item = waiting.shift();
            return item === null ? { done: true, value: undefined } : { done: false, value: item };
          },
          async return() {
            if (!ended) socket.close(1000);
            return { done: true, value: undefined };
          },
        };
      },
    };
  }

  global.casetimeFetcher = function (httpFetcher, url) {
    return (params, options) =>
      isSubscription(params) ? subscribe(url, params, (options && options.headers) || {}) : httpFetcher(params, options);
  };
})(typeof window !== "undefined" ? window : globalThis);
