package handlers

import (
	"bytes"
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/docs"
)

func (s *Server) page(kind string) ([]byte, error) {
	if !s.Config.DocsEnabled {
		return nil, apierr.NotFound("Documentation")
	}
	html, ok := docs.Page(kind, s.Title)
	if !ok {
		return nil, apierr.NotFound("Documentation")
	}
	return html, nil
}

func (s *Server) GetSwaggerUI(ctx context.Context, _ api.GetSwaggerUIRequestObject) (api.GetSwaggerUIResponseObject, error) {
	html, err := s.page("swagger")
	if err != nil {
		return nil, err
	}
	return api.GetSwaggerUI200TexthtmlResponse{Body: bytes.NewReader(html), ContentLength: int64(len(html))}, nil
}

func (s *Server) GetRedoc(ctx context.Context, _ api.GetRedocRequestObject) (api.GetRedocResponseObject, error) {
	html, err := s.page("redoc")
	if err != nil {
		return nil, err
	}
	return api.GetRedoc200TexthtmlResponse{Body: bytes.NewReader(html), ContentLength: int64(len(html))}, nil
}

func (s *Server) GetOpenAPIYAML(ctx context.Context, _ api.GetOpenAPIYAMLRequestObject) (api.GetOpenAPIYAMLResponseObject, error) {
	return api.GetOpenAPIYAML200ApplicationyamlResponse{Body: bytes.NewReader(s.SpecYAML), ContentLength: int64(len(s.SpecYAML))}, nil
}

// GetOpenAPIJSON and GetDocsAsset are served raw by the routes below.
func (s *Server) GetOpenAPIJSON(context.Context, api.GetOpenAPIJSONRequestObject) (api.GetOpenAPIJSONResponseObject, error) {
	return nil, apierr.New(http.StatusInternalServerError, "INTERNAL_ERROR", "served by the raw route")
}

func (s *Server) GetDocsAsset(context.Context, api.GetDocsAssetRequestObject) (api.GetDocsAssetResponseObject, error) {
	return nil, apierr.New(http.StatusInternalServerError, "INTERNAL_ERROR", "served by the raw route")
}

func (r *routes) GetOpenAPIJSON(c echo.Context) error {
	b, err := r.s.SpecJSON()
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "application/json", b)
}

func (r *routes) GetDocsAsset(c echo.Context, name string) error {
	if !r.s.Config.DocsEnabled {
		return apierr.NotFound("Asset")
	}
	body, ctype, ok := docs.Asset(name)
	if !ok {
		return apierr.NotFound("Asset")
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=86400")
	return c.Blob(http.StatusOK, ctype, body)
}
