package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/accordwatch/accordwatch/classify/eval"
	"github.com/spf13/cobra"
)

func evalCmd(e *env) *cobra.Command {
	var gold string
	var misses, asJSON bool
	cmd := &cobra.Command{
		Use:   "eval --gold FILE",
		Short: "Measure the tagger against labelled items: precision, recall and F1 per label, attack-type accuracy, misses",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if gold == "" {
				return errors.New("eval needs --gold FILE (JSON Lines in the format of shared/data/eval/dev.jsonl)")
			}
			f, err := os.Open(gold)
			if err != nil {
				return fmt.Errorf("gold file: %w", err)
			}
			defer f.Close()
			cl, err := e.newClassifier(cmd)
			if err != nil {
				return err
			}
			rep, err := eval.Evaluate(cl, f)
			if err != nil {
				return fmt.Errorf("%s: %w", gold, err)
			}
			if asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			return rep.WriteText(e.stdout, misses)
		},
	}
	cmd.Flags().StringVar(&gold, "gold", "", "labelled JSON Lines file")
	cmd.Flags().BoolVar(&misses, "misses", true, "list every disagreement")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}
