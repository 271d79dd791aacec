package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/internal/apierr"
)

// OpenRealtime hands the connection to the realtime hub, which authenticates the token and
// upgrades (the spec declares no security: browsers cannot send headers on a WebSocket).
func (r *routes) OpenRealtime(c echo.Context, p api.OpenRealtimeParams) error {
	return r.socket(c, p.Token, r.s.Realtime)
}

// OpenVoicePipeline hands the connection to the voice session hub, like OpenRealtime.
func (r *routes) OpenVoicePipeline(c echo.Context, p api.OpenVoicePipelineParams) error {
	return r.socket(c, p.Token, r.s.VoiceSessions)
}

// socket serves a WebSocket endpoint: a plain request gets an ordinary envelope (401 without
// a valid token, else 400), a handshake goes to the hub.
func (r *routes) socket(c echo.Context, token *string, hub http.Handler) error {
	req := c.Request()
	if !websocket.IsWebSocketUpgrade(req) {
		tok := ""
		if token != nil {
			tok = *token
		} else if h := req.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
			tok = strings.TrimPrefix(h, "Bearer ")
		}
		if _, err := r.s.Auth.AuthenticateToken(req.Context(), tok); err != nil {
			return apierr.Unauthorized("UNAUTHORIZED", "A valid access token is required").WithHeader("WWW-Authenticate", "Bearer")
		}
		return apierr.New(http.StatusBadRequest, "BAD_REQUEST", req.URL.Path+" expects a WebSocket handshake")
	}
	hub.ServeHTTP(c.Response(), req)
	return nil
}

// OpenRealtime is served by routes.
func (s *Server) OpenRealtime(context.Context, api.OpenRealtimeRequestObject) (api.OpenRealtimeResponseObject, error) {
	return nil, errors.New("handlers: OpenRealtime is served by routes")
}

// OpenVoicePipeline is served by routes.
func (s *Server) OpenVoicePipeline(context.Context, api.OpenVoicePipelineRequestObject) (api.OpenVoicePipelineResponseObject, error) {
	return nil, errors.New("handlers: OpenVoicePipeline is served by routes")
}
