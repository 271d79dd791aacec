package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/flageval"
	"github.com/voiceassist/gateway/internal/flagstore"
)

func toAPIFlag(r flagstore.Record) (api.FeatureFlag, error) {
	var out api.FeatureFlag
	if err := convert(flagstore.ToDoc(r.Flag), &out); err != nil {
		return out, err
	}
	out.Category = api.FlagCategory(r.Category())
	out.CreatedAt, out.UpdatedAt = r.CreatedAt, r.UpdatedAt
	return out, nil
}

func (s *Server) flagEnvelope(ctx context.Context, r flagstore.Record) (api.FlagEnvelope, error) {
	f, err := toAPIFlag(r)
	return api.FlagEnvelope{Success: true, Data: f, Metadata: meta(ctx), Timestamp: now()}, err
}

func (s *Server) ListFlags(ctx context.Context, r api.ListFlagsRequestObject) (api.ListFlagsResponseObject, error) {
	p := r.Params
	f := flagstore.Filter{Category: stringOf(p.Category), Visibility: stringOf(p.Visibility), Enabled: p.Enabled, Q: p.Q, Archived: valueOf(p.Archived), After: valueOf(p.Cursor), Limit: limitOf(p.Limit)}
	recs, next, err := s.Flags.List(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]api.FeatureFlag, len(recs))
	for i, rec := range recs {
		if out[i], err = toAPIFlag(rec); err != nil {
			return nil, err
		}
	}
	return api.ListFlags200JSONResponse{Success: true, Data: out, Metadata: pageMeta(ctx, f.Limit, next), Timestamp: now()}, nil
}

func (s *Server) CreateFlag(ctx context.Context, r api.CreateFlagRequestObject) (api.CreateFlagResponseObject, error) {
	var d flagstore.Doc
	if err := convert(r.Body, &d); err != nil {
		return nil, err
	}
	if r.Body.RolloutPercentage == nil {
		d.RolloutPercentage = 100
	}
	rec, err := s.Flags.Create(ctx, actorOf(ctx), flagstore.FromDoc(d))
	if err != nil {
		return nil, err
	}
	env, err := s.flagEnvelope(ctx, rec)
	if err != nil {
		return nil, err
	}
	return api.CreateFlag201JSONResponse(env), nil
}

func (s *Server) GetFlag(ctx context.Context, r api.GetFlagRequestObject) (api.GetFlagResponseObject, error) {
	rec, err := s.Flags.Get(ctx, r.Flag)
	if err != nil {
		return nil, err
	}
	env, err := s.flagEnvelope(ctx, rec)
	if err != nil {
		return nil, err
	}
	return api.GetFlag200JSONResponse{Body: env, Headers: api.GetFlag200ResponseHeaders{ETag: ptrTo(etagOf(rec.Version))}}, nil
}

func etagOf(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// parseIfMatch accepts "3", "\"3\"" and W/"3".
func parseIfMatch(h *string) (*int64, error) {
	if h == nil {
		return nil, nil
	}
	v := strings.TrimPrefix(strings.TrimSpace(*h), "W/")
	v = strings.Trim(v, `"`)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, apierr.Validation(http.StatusBadRequest, apierr.FieldError{Field: "If-Match", Message: "must be the ETag of the flag (its version)"})
	}
	return &n, nil
}

func (s *Server) UpdateFlag(ctx context.Context, r api.UpdateFlagRequestObject) (api.UpdateFlagResponseObject, error) {
	ifMatch, err := parseIfMatch(r.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	patch := *r.Body
	pre := flagstore.Precondition{IfMatch: ifMatch, BodyVersion: patch.Version}
	patch.Version = nil
	var changes map[string]json.RawMessage
	if err := convert(patch, &changes); err != nil {
		return nil, err
	}
	rec, err := s.Flags.Patch(ctx, actorOf(ctx), r.Flag, pre, changes)
	if err != nil {
		return nil, err
	}
	env, err := s.flagEnvelope(ctx, rec)
	if err != nil {
		return nil, err
	}
	return api.UpdateFlag200JSONResponse(env), nil
}

func (s *Server) DeleteFlag(ctx context.Context, r api.DeleteFlagRequestObject) (api.DeleteFlagResponseObject, error) {
	if err := s.Flags.Delete(ctx, actorOf(ctx), r.Flag); err != nil {
		return nil, err
	}
	return api.DeleteFlag204Response{}, nil
}

func (s *Server) setFlag(ctx context.Context, key, action string, change func(*flageval.Flag)) (api.FlagEnvelope, error) {
	rec, err := s.Flags.Update(ctx, actorOf(ctx), key, flagstore.Precondition{}, action, func(f *flageval.Flag) error { change(f); return nil })
	if err != nil {
		return api.FlagEnvelope{}, err
	}
	return s.flagEnvelope(ctx, rec)
}

func (s *Server) ToggleFlag(ctx context.Context, r api.ToggleFlagRequestObject) (api.ToggleFlagResponseObject, error) {
	env, err := s.setFlag(ctx, r.Flag, "flags.toggled", func(f *flageval.Flag) { f.Enabled = !f.Enabled })
	if err != nil {
		return nil, err
	}
	return api.ToggleFlag200JSONResponse(env), nil
}

func (s *Server) ArchiveFlag(ctx context.Context, r api.ArchiveFlagRequestObject) (api.ArchiveFlagResponseObject, error) {
	env, err := s.setFlag(ctx, r.Flag, "flags.archived", func(f *flageval.Flag) { f.Archived = true })
	if err != nil {
		return nil, err
	}
	return api.ArchiveFlag200JSONResponse(env), nil
}

func (s *Server) UnarchiveFlag(ctx context.Context, r api.UnarchiveFlagRequestObject) (api.UnarchiveFlagResponseObject, error) {
	env, err := s.setFlag(ctx, r.Flag, "flags.unarchived", func(f *flageval.Flag) { f.Archived = false })
	if err != nil {
		return nil, err
	}
	return api.UnarchiveFlag200JSONResponse(env), nil
}

func toAPIOverride(o flagstore.OverrideRecord, at time.Time) api.FlagOverride {
	out := api.FlagOverride{
		FlagKey: o.FlagKey, TargetingKey: o.TargetingKey, Variant: o.Variant, Reason: o.Reason,
		ExpiresAt: o.ExpiresAt, Expired: o.ExpiresAt != nil && !o.ExpiresAt.After(at),
		CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt,
	}
	if o.Value != nil {
		v := api.AnyValue(o.Value)
		out.Value = &v
	}
	return out
}

func (s *Server) ListFlagOverrides(ctx context.Context, r api.ListFlagOverridesRequestObject) (api.ListFlagOverridesResponseObject, error) {
	limit := limitOf(r.Params.Limit)
	recs, next, err := s.Flags.ListOverrides(ctx, r.Flag, valueOf(r.Params.Cursor), limit)
	if err != nil {
		return nil, err
	}
	out := make([]api.FlagOverride, len(recs))
	for i, o := range recs {
		out[i] = toAPIOverride(o, now())
	}
	return api.ListFlagOverrides200JSONResponse{Success: true, Data: out, Metadata: pageMeta(ctx, limit, next), Timestamp: now()}, nil
}

func (s *Server) PutFlagOverride(ctx context.Context, r api.PutFlagOverrideRequestObject) (api.PutFlagOverrideResponseObject, error) {
	o := flageval.Override{FlagKey: r.Flag, TargetingKey: r.TargetingKey, ExpiresAt: r.Body.ExpiresAt}
	if r.Body.Value != nil {
		o.Value = *r.Body.Value
	}
	if r.Body.Variant != nil {
		o.Variant = *r.Body.Variant
	}
	reason := ""
	if r.Body.Reason != nil {
		reason = *r.Body.Reason
	}
	rec, err := s.Flags.PutOverride(ctx, actorOf(ctx), o, reason)
	if err != nil {
		return nil, err
	}
	return api.PutFlagOverride200JSONResponse{Success: true, Data: toAPIOverride(rec, now()), Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) DeleteFlagOverride(ctx context.Context, r api.DeleteFlagOverrideRequestObject) (api.DeleteFlagOverrideResponseObject, error) {
	if err := s.Flags.DeleteOverride(ctx, actorOf(ctx), r.Flag, r.TargetingKey); err != nil {
		return nil, err
	}
	return api.DeleteFlagOverride204Response{}, nil
}

type exportFile struct {
	Version    int             `json:"version" yaml:"version"`
	ExportedAt time.Time       `json:"exported_at" yaml:"exported_at"`
	Flags      []flagstore.Doc `json:"flags" yaml:"flags"`
}

func (s *Server) ExportFlags(ctx context.Context, r api.ExportFlagsRequestObject) (api.ExportFlagsResponseObject, error) {
	docs, err := s.Flags.Export(ctx)
	if err != nil {
		return nil, err
	}
	file := exportFile{Version: 1, ExportedAt: now(), Flags: docs}
	if r.Params.Format != nil && *r.Params.Format == api.ExportFlagsParamsFormatYaml {
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(file); err != nil {
			return nil, err
		}
		return api.ExportFlags200ApplicationyamlResponse{Body: &buf, ContentLength: int64(buf.Len())}, nil
	}
	var out api.FlagExport
	if err := convert(file, &out); err != nil {
		return nil, err
	}
	return api.ExportFlags200JSONResponse(out), nil
}

func (s *Server) importDocs(ctx context.Context, items []api.FlagExportItem, dryRun *bool) (api.FlagImportEnvelope, error) {
	docs := make([]flagstore.Doc, len(items))
	for i, it := range items {
		if err := convert(it, &docs[i]); err != nil {
			return api.FlagImportEnvelope{}, err
		}
		if it.RolloutPercentage == nil {
			docs[i].RolloutPercentage = 100
		}
	}
	dry := dryRun != nil && *dryRun
	res, err := s.Flags.Import(ctx, actorOf(ctx), docs, dry)
	if err != nil {
		return api.FlagImportEnvelope{}, err
	}
	return api.FlagImportEnvelope{Success: true, Metadata: meta(ctx), Timestamp: now(), Data: api.FlagImportResult{
		Created: res.Created, Updated: res.Updated, Unchanged: res.Unchanged, DryRun: dry,
	}}, nil
}

func (s *Server) ImportFlags(ctx context.Context, r api.ImportFlagsRequestObject) (api.ImportFlagsResponseObject, error) {
	var items []api.FlagExportItem
	switch {
	case r.JSONBody != nil:
		items = r.JSONBody.Flags
	case r.Body != nil:
		var doc map[string]any
		if err := yaml.NewDecoder(io.LimitReader(r.Body, s.Config.MaxBodyBytes)).Decode(&doc); err != nil {
			return nil, apierr.Validation(http.StatusBadRequest, apierr.FieldError{Field: "body", Message: "is not valid YAML"})
		}
		var file api.FlagImport
		if err := convert(doc, &file); err != nil {
			return nil, apierr.Validation(http.StatusUnprocessableEntity, apierr.FieldError{Field: "body", Message: "does not match the import format: " + err.Error()})
		}
		items = file.Flags
	default:
		return nil, apierr.Validation(http.StatusBadRequest, apierr.FieldError{Field: "body", Message: "is required"})
	}
	env, err := s.importDocs(ctx, items, r.Params.DryRun)
	if err != nil {
		return nil, err
	}
	return api.ImportFlags200JSONResponse(env), nil
}
