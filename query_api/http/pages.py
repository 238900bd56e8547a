"""The page a list request asks for (SPEC §1.7), read from its query string: the same for every cursor-paginated
list, v1's and v2's."""

from flask import request

from query_api.queries.pagination import PageRequest, page_size


def page_request() -> PageRequest:
    args = tuple((key, value) for key, value in request.args.items(multi=True) if key != "cursor")
    return PageRequest(
        page_size(request.args.get("page_size")), request.args.get("cursor") or None, request.base_url, args
    )
