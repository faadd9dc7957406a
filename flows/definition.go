package flows

import (
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Step kinds: what a step collects. Their meaning is code; their wording,
// order and limits are data (configs/flows.yaml).
const (
	StepCategory    = "category"
	StepDescription = "description"
	StepPhotos      = "photos"
	StepLocation    = "location"
	StepStation     = "station"
	StepPhone       = "phone"
	StepText        = "text"
	StepConfirm     = "confirm"
)

// Input kinds a step may accept.
const (
	InputText     = "text"
	InputVoice    = "voice"
	InputImage    = "image"
	InputLocation = "location"
)

// Conditions a step's `when` may name.
const whenStationUnknown = "station_unknown"

// Step is one question of a flow.
type Step struct {
	ID       string   `yaml:"id"`
	Label    string   `yaml:"label"`
	Kind     string   `yaml:"kind"`
	Field    string   `yaml:"field"`
	Accepts  []string `yaml:"accepts"`
	Prompt   string   `yaml:"prompt"`
	Short    string   `yaml:"short"`
	Help     string   `yaml:"help"`
	Min      int      `yaml:"min"`
	Max      int      `yaml:"max"`
	Optional bool     `yaml:"optional"`
	When     string   `yaml:"when"`
	Next     string   `yaml:"next"`
}

func (s *Step) accepts(kind string) bool {
	for _, a := range s.Accepts {
		if a == kind {
			return true
		}
	}
	return false
}

// Flow is a conversation that collects a report step by step.
type Flow struct {
	ID    string `yaml:"id"`
	Title string `yaml:"title"`
	Steps []Step `yaml:"steps"`
	index map[string]int
}

// step returns the step with the id, or nil.
func (f *Flow) step(id string) *Step {
	if i, ok := f.index[id]; ok {
		return &f.Steps[i]
	}
	return nil
}

// Flows is the parsed configs/flows.yaml.
type Flows struct {
	Version int    `yaml:"version"`
	Flows   []Flow `yaml:"flows"`
}

// Flow returns the flow with the id, or nil.
func (fs *Flows) Flow(id string) *Flow {
	for i := range fs.Flows {
		if fs.Flows[i].ID == id {
			return &fs.Flows[i]
		}
	}
	return nil
}

var (
	idPattern      = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	stepKinds      = map[string]bool{StepCategory: true, StepDescription: true, StepPhotos: true, StepLocation: true, StepStation: true, StepPhone: true, StepText: true, StepConfirm: true}
	inputKinds     = map[string]bool{InputText: true, InputVoice: true, InputImage: true, InputLocation: true}
	defaultAccepts = map[string][]string{
		StepCategory: {InputText, InputVoice}, StepDescription: {InputText, InputVoice}, StepPhotos: {InputImage},
		StepLocation: {InputLocation, InputText, InputVoice}, StepStation: {InputText, InputVoice},
		StepPhone: {InputText, InputVoice}, StepText: {InputText, InputVoice}, StepConfirm: {InputText, InputVoice},
	}
)

// LoadFlows parses and checks a flows file. Errors name the flow, the step
// and the line, so a station editing the file knows what to fix.
func LoadFlows(b []byte) (*Flows, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("flows: %w", err)
	}
	var fs Flows
	if err := doc.Decode(&fs); err != nil {
		return nil, fmt.Errorf("flows: %w", err)
	}
	c := &flowCheck{lines: stepLines(&doc)}
	if fs.Version < 1 {
		c.errs = append(c.errs, "version must be a positive number")
	}
	if len(fs.Flows) == 0 {
		c.errs = append(c.errs, "no flows")
	}
	if fs.Flow("report") == nil {
		c.errs = append(c.errs, "the report flow (id: report) is missing")
	}
	for fi := range fs.Flows {
		c.flow(&fs.Flows[fi])
	}
	if len(c.errs) > 0 {
		return nil, fmt.Errorf("flows:\n  %s", strings.Join(c.errs, "\n  "))
	}
	return &fs, nil
}

// flowCheck collects every fault of a flows file, each with its line, so
// one edit-and-reload shows them all.
type flowCheck struct {
	lines map[string][]int // flow id → line of each step
	errs  []string
}

func (c *flowCheck) bad(flow string, i int, format string, args ...any) {
	where := "flow " + flow
	if i >= 0 {
		where += fmt.Sprintf(", step %d", i+1)
		if l := c.lines[flow]; i < len(l) {
			where = fmt.Sprintf("line %d: %s", l[i], where)
		}
	}
	c.errs = append(c.errs, where+": "+fmt.Sprintf(format, args...))
}

// flow checks one flow, indexes its steps and fills their defaults.
func (c *flowCheck) flow(f *Flow) {
	f.index = map[string]int{}
	if !idPattern.MatchString(f.ID) {
		c.bad(f.ID, -1, "id must be lower-case letters, digits and _")
	}
	confirms := 0
	for i := range f.Steps {
		s := &f.Steps[i]
		if _, dup := f.index[s.ID]; dup {
			c.bad(f.ID, i, "step id %q is used twice", s.ID)
		}
		f.index[s.ID] = i
		c.step(f.ID, i, s, i == len(f.Steps)-1)
		if s.Kind == StepConfirm {
			confirms++
		}
	}
	for i := range f.Steps {
		if n := f.Steps[i].Next; n != "" {
			if j, ok := f.index[n]; !ok || j <= i {
				c.bad(f.ID, i, "next %q must name a later step", n)
			}
		}
	}
	if confirms != 1 {
		c.bad(f.ID, -1, "needs exactly one confirm step, as the last")
	}
	if f.ID == "report" {
		for _, need := range []string{StepCategory, StepDescription} {
			found := false
			for _, s := range f.Steps {
				found = found || s.Kind == need
			}
			if !found {
				c.bad(f.ID, -1, "the report flow needs a %s step", need)
			}
		}
	}
}

// step checks one step and fills its defaults (Short, Accepts).
func (c *flowCheck) step(flow string, i int, s *Step, last bool) {
	if !idPattern.MatchString(s.ID) {
		c.bad(flow, i, "step id %q must be lower-case letters, digits and _", s.ID)
	}
	if !stepKinds[s.Kind] {
		c.bad(flow, i, "kind %q is not one of category, description, photos, location, station, phone, text, confirm", s.Kind)
	}
	if strings.TrimSpace(s.Label) == "" || strings.ContainsAny(s.Label, "【】") {
		c.bad(flow, i, "label must be a short name without 【】 (they are added)")
	}
	if strings.TrimSpace(s.Prompt) == "" {
		c.bad(flow, i, "prompt is empty")
	}
	if s.Short == "" {
		s.Short = s.Prompt
	}
	if len(s.Accepts) == 0 {
		s.Accepts = defaultAccepts[s.Kind]
	}
	for _, a := range s.Accepts {
		if !inputKinds[a] {
			c.bad(flow, i, "accepts %q: not one of text, voice, image, location", a)
		}
	}
	if s.Kind == StepText && !idPattern.MatchString(s.Field) {
		c.bad(flow, i, "a text step needs a field name (lower-case letters, digits and _)")
	}
	if s.Kind == StepPhotos && (s.Max < 1 || s.Max > 9) {
		c.bad(flow, i, "photos max must be 1 to 9")
	}
	if s.Kind == StepDescription || s.Kind == StepText {
		if s.Min < 0 || (s.Max != 0 && s.Max < s.Min) || s.Max > 2000 {
			c.bad(flow, i, "min and max must satisfy 0 <= min <= max <= 2000")
		}
	}
	if s.When != "" && s.When != whenStationUnknown {
		c.bad(flow, i, "when %q is not a known condition (station_unknown)", s.When)
	}
	if s.Kind == StepConfirm {
		if !last {
			c.bad(flow, i, "the confirm step must be the last")
		}
		if !strings.Contains(s.Prompt, "{summary}") {
			c.bad(flow, i, "the confirm prompt must contain {summary}")
		}
	}
	if (s.Kind == StepCategory || s.Kind == StepStation) && !strings.Contains(s.Prompt, "{options}") {
		c.bad(flow, i, "the prompt must contain {options}")
	}
}

// stepLines maps flow id to the line of each of its steps.
func stepLines(doc *yaml.Node) map[string][]int {
	out := map[string][]int{}
	if len(doc.Content) == 0 {
		return out
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "flows" {
			continue
		}
		for _, flow := range root.Content[i+1].Content {
			var id string
			var steps []int
			for j := 0; j+1 < len(flow.Content); j += 2 {
				switch flow.Content[j].Value {
				case "id":
					id = flow.Content[j+1].Value
				case "steps":
					for _, s := range flow.Content[j+1].Content {
						steps = append(steps, s.Line)
					}
				}
			}
			out[id] = steps
		}
	}
	return out
}
