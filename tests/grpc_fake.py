"""The technique of every local fake Google API the tests start (../shared/reference/ga4.md §6.4).

Google's client packages ship no servicer, so a fake registers a generic handler keyed by the service's
full name, with the proto-plus classes' `deserialize` / `serialize`, on 127.0.0.1 and a free port. The real
client then talks to it over a plaintext channel (`--endpoint HOST:PORT --insecure`).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent import futures
from typing import Any

import grpc


def unary(handler: Callable[[Any, grpc.ServicerContext], Any], request: Any, response: Any
          ) -> grpc.RpcMethodHandler:
    """A unary method: `request` / `response` are proto-plus classes (or protobuf ones, e.g. Empty)."""
    serialize = getattr(response, "serialize", None) or (lambda message: message.SerializeToString())
    return grpc.unary_unary_rpc_method_handler(handler, request_deserializer=request.deserialize,
                                               response_serializer=serialize)


def serve(service: str, methods: dict[str, grpc.RpcMethodHandler], port: int = 0,
          workers: int = 8) -> tuple[grpc.Server, int]:
    """Start `service` on 127.0.0.1 (a free port unless given); returns the server and its port."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, methods),))
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    return server, bound
