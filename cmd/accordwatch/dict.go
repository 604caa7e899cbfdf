package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/accordwatch/accordwatch/classify"
	"github.com/accordwatch/accordwatch/classify/dictimport"
	"github.com/accordwatch/accordwatch/config"
	"github.com/spf13/cobra"
)

// userDictDir holds dictionaries written by `dict import`; every file in
// it is loaded after the config's own dictionaries.
const userDictDir = "dictionaries"

// dictionaryFiles lists the user dictionaries to load, in override order.
func dictionaryFiles(cfg *config.Config) []string {
	files := slices.Clone(cfg.Dictionaries)
	ents, err := os.ReadDir(filepath.Join(cfg.DataDir, userDictDir))
	if err != nil {
		return files
	}
	for _, e := range ents {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".json", ".yaml", ".yml":
			if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
				files = append(files, filepath.Join(cfg.DataDir, userDictDir, e.Name()))
			}
		}
	}
	return files
}

// newClassifier builds the classifier a command uses. Without a usable
// config it falls back to the embedded dictionaries alone.
func (e *env) newClassifier(cmd *cobra.Command) (*classify.Classifier, error) {
	var files []string
	if cfg, err := e.loadConfig(cmd); err == nil {
		files = dictionaryFiles(cfg)
	}
	return classify.New(classify.Options{ExtraDictionaries: files})
}

func dictCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dict",
		Short: "Manage the tagger's dictionaries",
	}
	cmd.AddCommand(dictImportCmd(e))
	return cmd
}

func dictImportCmd(e *env) *cobra.Command {
	var misp, attack, microsoft, out string
	cmd := &cobra.Command{
		Use:   "import (--misp FILE | --attack FILE | --microsoft FILE) [--out FILE]",
		Short: "Refresh threat actors from a newer release of the MISP galaxy, MITRE ATT&CK or Microsoft's naming map",
		Long: `Reads a newer release of a threat-actor dataset and writes a user dictionary
with the actors the built-in dictionaries lack and the new aliases of those they
know (curated rules kept). It goes to <data_dir>/dictionaries/ unless --out is
given, and is loaded on the next start; no rebuild needed.

  --misp       MISP galaxy clusters/threat-actor.json
  --attack     ATT&CK intrusion sets: a STIX bundle (enterprise-attack.json) or a list
  --microsoft  Microsoft's MicrosoftMapping.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			type source struct {
				flag, path, name string
				parse            func(io.Reader) ([]classify.Entry, error)
			}
			var chosen []source
			for _, s := range []source{
				{"--misp", misp, "misp", dictimport.ActorsFromMISP},
				{"--attack", attack, "attack", dictimport.ActorsFromATTACK},
				{"--microsoft", microsoft, "microsoft", dictimport.ActorsFromMicrosoft},
			} {
				if s.path != "" {
					chosen = append(chosen, s)
				}
			}
			if len(chosen) != 1 {
				return errors.New("give exactly one of --misp FILE, --attack FILE or --microsoft FILE")
			}
			src := chosen[0]
			f, err := os.Open(src.path)
			if err != nil {
				return fmt.Errorf("%s: %w", src.flag, err)
			}
			fresh, err := src.parse(f)
			f.Close()
			if err != nil {
				return fmt.Errorf("%s %s: %w", src.flag, src.path, err)
			}
			base, err := classify.Embedded()
			if err != nil {
				return err
			}
			dict, st := dictimport.ImportActors(base, fresh)
			if out == "" {
				cfg, err := e.loadConfig(cmd)
				if err != nil {
					return err
				}
				out = filepath.Join(cfg.DataDir, userDictDir, src.name+"-actors.json")
			}
			raw, err := json.MarshalIndent(dict, "", "  ")
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(out), 0o750); err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			// Write beside and rename, so a running reader never sees half a file.
			tmp := out + ".tmp"
			if err := os.WriteFile(tmp, append(raw, '\n'), 0o640); err != nil {
				return fmt.Errorf("write %s: %w", out, err)
			}
			if err := os.Rename(tmp, out); err != nil {
				return fmt.Errorf("write %s: %w", out, err)
			}
			// Prove the file loads before saying it will.
			if _, err := classify.New(classify.Options{ExtraDictionaries: []string{out}}); err != nil {
				return fmt.Errorf("the written dictionary does not load: %w", err)
			}
			fmt.Fprintf(e.stdout, "read %d actors from %s: %d new, %d with new aliases, %d already complete; %d aliases added, %d unusable aliases dropped\nwrote %s (loaded on the next start)\n",
				st.Read, src.path, st.New, st.Extended, st.Unchanged, st.AliasesAdded, st.AliasesDropped, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&misp, "misp", "", "MISP galaxy threat-actor.json")
	cmd.Flags().StringVar(&attack, "attack", "", "MITRE ATT&CK intrusion sets (STIX bundle or list)")
	cmd.Flags().StringVar(&microsoft, "microsoft", "", "Microsoft threat actor naming map")
	cmd.Flags().StringVar(&out, "out", "", "where to write the dictionary (default <data_dir>/dictionaries/<source>-actors.json)")
	return cmd
}
