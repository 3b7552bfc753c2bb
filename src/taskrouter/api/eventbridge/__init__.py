"""The Worker SDK's face: what twilio-taskrouter.js calls its "event bridge".

A websocket at /v1/wschannels carries events to a worker's browser; a POST to the same path
carries every action the SDK takes, as `{url, method, params, token}`, onto the one service.
"""
