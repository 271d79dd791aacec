package handlers

import (
	"bytes"
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/demo"
)

// demoServed reports whether /demo/voice exists here: with the docs, and never in
// production (it is a tool for trying the voice pipeline, not a product page).
func (s *Server) demoServed() bool {
	return s.Config.DocsEnabled && !s.Config.IsProduction()
}

func (s *Server) GetDemoVoice(context.Context, api.GetDemoVoiceRequestObject) (api.GetDemoVoiceResponseObject, error) {
	if !s.demoServed() {
		return nil, apierr.NotFound("Page")
	}
	html := demo.Page()
	return api.GetDemoVoice200TexthtmlResponse{Body: bytes.NewReader(html), ContentLength: int64(len(html))}, nil
}

// GetDemoVoiceAsset is served raw by the route below.
func (s *Server) GetDemoVoiceAsset(context.Context, api.GetDemoVoiceAssetRequestObject) (api.GetDemoVoiceAssetResponseObject, error) {
	return nil, apierr.New(http.StatusInternalServerError, "INTERNAL_ERROR", "served by the raw route")
}

func (r *routes) GetDemoVoiceAsset(c echo.Context, name string) error {
	if !r.s.demoServed() {
		return apierr.NotFound("Asset")
	}
	body, ctype, ok := demo.Asset(name)
	if !ok {
		return apierr.NotFound("Asset")
	}
	// No long caching: the page and its scripts change together, and the page is not cached either.
	c.Response().Header().Set("Cache-Control", "no-cache")
	return c.Blob(http.StatusOK, ctype, body)
}
